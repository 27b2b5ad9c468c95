package dev.mlinfra.infra.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** A component's processes found by a piece of their command line, with their children, as /proc shows them. */
class ProcessTableTest {

    /** A shell named by {@code marker} that starts two sleeping children and waits. */
    private static Process family(String marker) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", "sleep 60 & sleep 60 & wait # " + marker).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (ProcessHandle.of(p.pid()).orElseThrow().children().count() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return p;
    }

    private static void stop(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    @Test
    void aComponentIsItsMatchingProcessWithItsDescendants() throws Exception {
        String marker = "component-" + UUID.randomUUID();
        Process shell = family(marker);
        try {
            ProcessTable table = ProcessTable.read(Path.of("/proc"));
            Set<Long> roots = table.roots(marker, Set.of());
            assertEquals(Set.of(shell.pid()), roots);
            Set<Long> found = table.withDescendants(roots, Set.of()).stream().map(ProcessTable.Proc::pid).collect(Collectors.toSet());
            Set<Long> expected = shell.descendants().map(ProcessHandle::pid).collect(Collectors.toSet());
            expected.add(shell.pid());
            assertEquals(expected, found);
            assertTrue(table.withDescendants(roots, Set.of()).stream().allMatch(p -> p.residentBytes() > 0));
        } finally {
            stop(shell);
        }
    }

    @Test
    void aDescendantThatIsAComponentOfItsOwnIsLeftToIt() throws Exception {
        String marker = "component-" + UUID.randomUUID();
        Process shell = family(marker);
        try {
            ProcessTable table = ProcessTable.read(Path.of("/proc"));
            List<Long> children = shell.children().map(ProcessHandle::pid).toList();
            Set<Long> found = table.withDescendants(Set.of(shell.pid()), Set.of(children.get(0))).stream()
                    .map(ProcessTable.Proc::pid).collect(Collectors.toSet());
            assertEquals(Set.of(shell.pid(), children.get(1)), found);
            // the process that reads the table never counts as the component its configuration names
            assertEquals(Set.of(), table.roots(marker, Set.of(shell.pid())));
        } finally {
            stop(shell);
        }
    }
}
