package dev.mlinfra.gateway.ratelimit;

import io.smallrye.mutiny.Uni;

/**
 * Counts requests in fixed windows that begin with a bucket's first request. Implementations
 * must count atomically: of N simultaneous requests against a limit L, exactly L are allowed,
 * also when several gateway replicas share the store.
 */
public interface RateLimitStore {

    /** Counts one request in {@code bucket} and decides whether it may pass. */
    Uni<RateDecision> acquire(String bucket, RatePolicy policy, long nowEpochMillis);

    /**
     * {@link #acquire} when this store decides without I/O (in memory): the decision, made now;
     * null when the store has to be asked through {@link #acquire}.
     */
    default RateDecision acquireNow(String bucket, RatePolicy policy, long nowEpochMillis) {
        return null;
    }
}
