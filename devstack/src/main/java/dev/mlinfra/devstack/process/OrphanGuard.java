package dev.mlinfra.devstack.process;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Stops a server process when the process that owns it dies without stopping it (kill -9, crash).
 *
 * <p>Servers such as PostgreSQL do not watch their parent, so a tiny shell loop does it for them:
 * it polls both processes once a second and, only when the owner is gone while the server still
 * runs, sends the server the given signal. It ends by itself once the server has stopped.
 */
public final class OrphanGuard {

    private static final String SCRIPT = """
            owner=$1 child=$2 sig=$3
            while kill -0 "$owner" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 1; done
            if ! kill -0 "$owner" 2>/dev/null; then kill -"$sig" "$child" 2>/dev/null; fi
            """;

    private OrphanGuard() {
    }

    /**
     * Starts a guard that sends {@code signal} to {@code child} once this JVM is gone.
     *
     * @return the guard process (destroy it when the child was stopped normally; it also exits on its own)
     */
    public static Process guard(long child, String signal) {
        return guard(ProcessHandle.current().pid(), child, signal);
    }

    public static Process guard(long owner, long child, String signal) {
        try {
            return new ProcessBuilder("/bin/sh", "-c", SCRIPT, "orphan-guard",
                    Long.toString(owner), Long.toString(child), signal)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the orphan guard for process " + child, e);
        }
    }
}
