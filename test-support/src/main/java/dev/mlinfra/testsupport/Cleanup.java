package dev.mlinfra.testsupport;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * One JVM shutdown hook for everything test support starts: services (last registered, first
 * stopped), then the devstack they use. Used through {@link JvmShared}, so it is one per JVM.
 */
final class Cleanup {

    private static final Deque<Runnable> TASKS = new ArrayDeque<>();
    private static Runnable last;
    private static boolean hooked;

    private Cleanup() {
    }

    static synchronized void register(Runnable task) {
        hook();
        TASKS.push(task);
    }

    /** The task that runs after every other one (stopping the devstack). */
    static synchronized void registerLast(Runnable task) {
        hook();
        last = task;
    }

    static synchronized void unregister(Runnable task) {
        TASKS.remove(task);
    }

    private static void hook() {
        if (!hooked) {
            Runtime.getRuntime().addShutdownHook(new Thread(Cleanup::runAll, "mlinfra-test-cleanup"));
            hooked = true;
        }
    }

    private static void runAll() {
        while (true) {
            Runnable task;
            synchronized (Cleanup.class) {
                task = TASKS.poll();
                if (task == null) {
                    task = last;
                    last = null;
                }
            }
            if (task == null) {
                return;
            }
            try {
                task.run();
            } catch (RuntimeException | LinkageError e) {
                System.err.println("test cleanup failed: " + e);
            }
        }
    }
}
