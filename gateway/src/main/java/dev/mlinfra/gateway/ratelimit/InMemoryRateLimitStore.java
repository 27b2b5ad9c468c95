package dev.mlinfra.gateway.ratelimit;

import io.smallrye.mutiny.Uni;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Windows counted in this replica's memory: the embedded default, exact under concurrency. */
public class InMemoryRateLimitStore implements RateLimitStore {

    /** Past this many buckets, expired windows are swept out on the next request. */
    private static final int SWEEP_THRESHOLD = 50_000;

    private record Window(long startMillis, long count) {
    }

    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    @Override
    public Uni<RateDecision> acquire(String bucket, RatePolicy policy, long nowEpochMillis) {
        return Uni.createFrom().item(acquireNow(bucket, policy, nowEpochMillis));
    }

    @Override
    public RateDecision acquireNow(String bucket, RatePolicy policy, long nowEpochMillis) {
        long windowMillis = policy.window().toMillis();
        if (windows.size() > SWEEP_THRESHOLD) {
            windows.values().removeIf(w -> w.startMillis + windowMillis <= nowEpochMillis);
        }
        Window w = windows.compute(bucket, (k, old) -> old == null || old.startMillis + windowMillis <= nowEpochMillis
                ? new Window(nowEpochMillis, 1)
                : new Window(old.startMillis, old.count + 1));
        return RateDecision.of(policy, w.count, w.startMillis);
    }
}
