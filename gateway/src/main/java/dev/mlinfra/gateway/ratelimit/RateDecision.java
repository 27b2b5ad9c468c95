package dev.mlinfra.gateway.ratelimit;

/**
 * The outcome of counting one request: allowed or not, and what the client is told in the
 * {@code X-RateLimit-*} headers ({@code resetEpochSeconds} is when the current window ends).
 */
public record RateDecision(boolean allowed, int limit, int remaining, long resetEpochSeconds) {

    /** Seconds until the window ends (at least 1), for {@code Retry-After}. */
    public long retryAfterSeconds(long nowEpochMillis) {
        return Math.max(1, resetEpochSeconds - Math.floorDiv(nowEpochMillis, 1000));
    }

    /** The decision for the n-th request of a window that began at {@code windowStartMillis}. */
    static RateDecision of(RatePolicy policy, long count, long windowStartMillis) {
        long resetMillis = windowStartMillis + policy.window().toMillis();
        return new RateDecision(count <= policy.limit(), policy.limit(),
                (int) Math.max(0, policy.limit() - count), Math.floorDiv(resetMillis + 999, 1000));
    }
}
