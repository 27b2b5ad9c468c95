package dev.mlinfra.gateway.ratelimit;

import dev.mlinfra.gateway.config.GatewayConfig;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.jboss.logging.Logger;

/** The per-key, per-area limits of the contract, as configured, over the configured store. */
@ApplicationScoped
public class RateLimiter {

    private static final Logger LOG = Logger.getLogger(RateLimiter.class);

    private final Map<String, RatePolicy> policies = new HashMap<>();
    private final RateLimitStore store;

    public RateLimiter(GatewayConfig config, Instance<Pool> pool) {
        config.rateLimit().limits().forEach((area, limit) -> {
            if (limit < 1) {
                throw new IllegalStateException("mlinfra.gateway.rate-limit.limits." + area + " must be at least 1, got " + limit);
            }
            policies.put(area, new RatePolicy(area, limit, config.rateLimit().window()));
        });
        this.store = switch (config.rateLimit().store()) {
            case "memory" -> new InMemoryRateLimitStore();
            case "postgres" -> new PostgresRateLimitStore(pool.get());
            default -> throw new IllegalStateException("mlinfra.gateway.rate-limit.store must be 'memory' or 'postgres', got '"
                    + config.rateLimit().store() + "'");
        };
        LOG.infof("Rate limits per key and window of %s: %s (store: %s)", config.rateLimit().window(),
                config.rateLimit().limits(), config.rateLimit().store());
    }

    /** The decision for one request of {@code keyId} in {@code area}; empty when the area has no limit. */
    public Optional<Uni<RateDecision>> acquire(String keyId, String area, long nowEpochMillis) {
        RatePolicy policy = policies.get(area);
        if (policy == null) {
            return Optional.empty();
        }
        return Optional.of(store.acquire(keyId + ":" + area, policy, nowEpochMillis));
    }
}
