package dev.mlinfra.testsupport;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

import org.junit.jupiter.api.Assumptions;

/**
 * A client in steady use: requests one after the other with a pause between them. What a cache
 * promises such a client (its entry is read again before it expires) holds only while the
 * requests keep coming and the machine keeps up; on a machine that stalls a request, or the read
 * ahead, for longer than the promise allows, a window proves nothing either way.
 */
public final class SteadyUse {

    private SteadyUse() {
    }

    /**
     * Sends {@code count} requests with {@code pause} after each (a request throws, e.g. an assertion,
     * when it is answered wrongly); true when no two of them started more than {@code longestGap} apart.
     */
    public static boolean window(int count, Duration pause, Duration longestGap, Callable<?> request) throws Exception {
        long longest = 0;
        long previous = 0;
        for (int i = 0; i < count; i++) {
            long start = System.nanoTime();
            if (i > 0) {
                longest = Math.max(longest, start - previous);
            }
            previous = start;
            request.call();
            Thread.sleep(pause.toMillis());
        }
        return longest <= longestGap.toNanos();
    }

    /**
     * Holds when the promise holds in one steady window out of {@code tries}: {@code promise} is asked
     * before each window (to note counters) and gives the check made after it. A window whose requests
     * were not steady is not checked; a steady one that breaks the promise is tried again (the read
     * ahead itself may have been stalled), and its failure is the test's when no window keeps it. Code
     * that never keeps the promise fails every steady window; a machine that never gives one steady
     * window aborts the test, saying so.
     */
    public static void keeps(int tries, int count, Duration pause, Duration longestGap, Callable<?> request,
            Supplier<Runnable> promise) throws Exception {
        AssertionError broken = null;
        for (int i = 0; i < tries; i++) {
            Runnable check = promise.get();
            if (!window(count, pause, longestGap, request)) {
                continue;
            }
            try {
                check.run();
                return;
            } catch (AssertionError e) {
                if (broken != null) {
                    e.addSuppressed(broken);
                }
                broken = e;
            }
        }
        if (broken != null) {
            throw broken;
        }
        Assumptions.abort("none of " + tries + " windows of " + count + " requests had them all start within "
                + longestGap.toMillis() + " ms of each other: this machine stalled them, so the promise was not tried");
    }
}
