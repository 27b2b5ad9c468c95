package dev.mlinfra.devstack.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Servers that start side by side pick their ports before any of them binds: the kernel may name
 * the same free port twice, this process never hands it out twice.
 */
class FreePortsTest {

    @Test
    void portsPickedSideBySideBeforeAnyIsBoundAreAllDifferent() throws Exception {
        int picks = 1_000;
        List<Callable<Integer>> tasks = new ArrayList<>();
        for (int i = 0; i < picks; i++) {
            tasks.add(FreePorts::pick);
        }
        ExecutorService threads = Executors.newFixedThreadPool(4);
        Set<Integer> ports = new HashSet<>();
        try {
            for (Future<Integer> port : threads.invokeAll(tasks)) {
                ports.add(port.get());
            }
        } finally {
            threads.shutdownNow();
        }
        assertEquals(picks, ports.size(), "every pick names a port of its own");
    }

    @Test
    void aPreferredPortIsKeptUnlessItIsTakenOrHandedOutAlready() throws Exception {
        int preferred;
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(InetAddress.getByName(FreePorts.LOOPBACK), 0));
            preferred = probe.getLocalPort();
            assertNotEquals(preferred, FreePorts.preferOrPick(preferred), "a port something listens on is not kept");
        }
        assertEquals(preferred, FreePorts.preferOrPick(preferred), "a free port not handed out before is kept");
        int again = FreePorts.preferOrPick(preferred);
        assertNotEquals(preferred, again, "a port handed out already is not handed out again");
        assertTrue(FreePorts.isFree(again));
    }
}
