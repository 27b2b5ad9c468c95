package dev.mlinfra.testsupport;

import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * A client in steady use: requests one after the other with a pause between them. What a cache
 * promises such a client (its entry is read again before it expires) holds only while the
 * requests keep coming; on a machine that stalls one request for longer than the promise allows,
 * the window proves nothing either way, so {@link #window} says whether it was steady.
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
}
