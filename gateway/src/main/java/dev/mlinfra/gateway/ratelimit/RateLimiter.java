package dev.mlinfra.gateway.ratelimit;

import dev.mlinfra.gateway.config.GatewayConfig;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * The per-key, per-area limits of the contract, as configured, over the configured store. A key
 * may carry limits of its own for some areas (set by an administrator); they replace the
 * configured limit of those areas for that key.
 */
@ApplicationScoped
public class RateLimiter {

    private static final Logger LOG = Logger.getLogger(RateLimiter.class);

    private final Map<String, RatePolicy> policies;
    private final RateLimitStore store;

    @Inject
    public RateLimiter(GatewayConfig config, Instance<Pool> pool) {
        this(policies(config), switch (config.rateLimit().store()) {
            case "memory" -> new InMemoryRateLimitStore();
            case "postgres" -> new PostgresRateLimitStore(pool.get());
            default -> throw new IllegalStateException("mlinfra.gateway.rate-limit.store must be 'memory' or 'postgres', got '"
                    + config.rateLimit().store() + "'");
        });
        LOG.infof("Rate limits per key and window of %s: %s (store: %s)", config.rateLimit().window(),
                config.rateLimit().limits(), config.rateLimit().store());
    }

    RateLimiter(Map<String, RatePolicy> policies, RateLimitStore store) {
        this.policies = Map.copyOf(policies);
        this.store = store;
    }

    private static Map<String, RatePolicy> policies(GatewayConfig config) {
        Map<String, RatePolicy> policies = new TreeMap<>();
        config.rateLimit().limits().forEach((area, limit) -> {
            if (limit < 1) {
                throw new IllegalStateException("mlinfra.gateway.rate-limit.limits." + area + " must be at least 1, got " + limit);
            }
            // the area names the policy in the RateLimit headers
            RateLimitHeaders.sfString(area);
            policies.put(area, new RatePolicy(area, limit, config.rateLimit().window()));
        });
        return policies;
    }

    /**
     * Counts one request of {@code keyId} in {@code area}, under the key's own limit for the area
     * when {@code keyLimits} holds one, and hands {@code then} the decision (null when the area has
     * no limit), or {@code failed} the store's failure. A store that decides in memory answers at
     * once, on the caller's thread and without a {@link Uni}.
     */
    public void acquire(String keyId, String area, Map<String, Integer> keyLimits, long nowEpochMillis,
            Consumer<RateDecision> then, Consumer<Throwable> failed) {
        Optional<RatePolicy> policy = policy(area, keyLimits);
        if (policy.isEmpty()) {
            then.accept(null);
            return;
        }
        String bucket = keyId + ":" + area;
        RateDecision now = store.acquireNow(bucket, policy.get(), nowEpochMillis);
        if (now != null) {
            then.accept(now);
            return;
        }
        store.acquire(bucket, policy.get(), nowEpochMillis).subscribe().with(then, failed);
    }

    /** The policy of {@code area} for a key with {@code keyLimits}; empty when the area has no limit. */
    Optional<RatePolicy> policy(String area, Map<String, Integer> keyLimits) {
        RatePolicy configured = policies.get(area);
        if (configured == null) {
            return Optional.empty();
        }
        Integer own = keyLimits == null ? null : keyLimits.get(area);
        return Optional.of(own == null || own < 1 ? configured : configured.withLimit(own));
    }

    /** The areas that have a limit. */
    public Set<String> areas() {
        return policies.keySet();
    }

    /** The limit of every area for a key with {@code keyLimits}: its own where it has one, else the configured one. */
    public Map<String, Integer> effectiveLimits(Map<String, Integer> keyLimits) {
        Map<String, Integer> limits = new TreeMap<>();
        policies.keySet().forEach(area -> limits.put(area, policy(area, keyLimits).orElseThrow().limit()));
        return limits;
    }
}
