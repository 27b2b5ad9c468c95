package dev.mlinfra.gateway.ratelimit;

/**
 * The outcome of counting one request under {@code policy}: allowed or not, and what the client
 * is told in the rate-limit headers. The window ends at {@code resetEpochMillis}.
 */
public record RateDecision(RatePolicy policy, boolean allowed, int remaining, long resetEpochMillis) {

    /** Requests allowed in the window. */
    public int limit() {
        return policy.limit();
    }

    /** When the window ends, in whole UTC epoch seconds (rounded up, so a client never retries early). */
    public long resetEpochSeconds() {
        return Math.floorDiv(resetEpochMillis + 999, 1000);
    }

    /** Seconds until the window ends (at least 1, rounded up), for {@code Retry-After}. */
    public long retryAfterSeconds(long nowEpochMillis) {
        return Math.max(1, secondsToReset(nowEpochMillis));
    }

    /** Seconds until the window ends, rounded up; 0 once it has. */
    public long secondsToReset(long nowEpochMillis) {
        return Math.max(0, Math.floorDiv(resetEpochMillis - nowEpochMillis + 999, 1000));
    }

    /** The decision for the n-th request of a window that began at {@code windowStartMillis}. */
    static RateDecision of(RatePolicy policy, long count, long windowStartMillis) {
        return new RateDecision(policy, count <= policy.limit(), (int) Math.max(0, policy.limit() - count),
                windowStartMillis + policy.window().toMillis());
    }
}
