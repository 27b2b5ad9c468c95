package dev.mlinfra.devstack.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnknownHostException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Loopback ports: finding free ones and probing listeners. JDK only. */
public final class FreePorts {

    /** Every server of the devstack listens here, never on a public interface. */
    public static final String LOOPBACK = "127.0.0.1";

    /**
     * Every port this process has handed out. A picked port stays free until its server binds it, so
     * servers that start side by side could otherwise be handed the same one.
     */
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();
    private static final int ATTEMPTS = 100;

    private FreePorts() {
    }

    /** A port that was free on the loopback interface a moment ago and that this process has not handed out before. */
    public static int pick() {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            int port;
            try (ServerSocket socket = new ServerSocket()) {
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress(loopback(), 0));
                port = socket.getLocalPort();
            } catch (IOException e) {
                throw new UncheckedIOException("no free loopback port", e);
            }
            if (HANDED_OUT.add(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no free loopback port in " + ATTEMPTS
                + " tries that this process had not handed out already");
    }

    /** The preferred port when it can be bound now and this process has not handed it out before, else {@link #pick()}. */
    public static int preferOrPick(int preferred) {
        return preferred > 0 && isFree(preferred) && HANDED_OUT.add(preferred) ? preferred : pick();
    }

    public static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(loopback(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** True when something accepts TCP connections on the loopback port. */
    public static boolean isListening(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(loopback(), port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static InetAddress loopback() {
        try {
            return InetAddress.getByName(LOOPBACK);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
