package dev.mlinfra.gateway.auth;

import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.gateway.ApiKey;
import dev.mlinfra.gateway.config.GatewayConfig;
import dev.mlinfra.gateway.repository.ApiKeyRepository;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns a presented API key into an {@link Identity}. Stored keys are remembered for at most
 * the configured TTL, so every replica sees a revocation (or a changed rate limit) within that time
 * without a database round trip on each request; the replica that changes a key forgets it at once.
 */
@ApplicationScoped
public class Authenticator {

    /** Bounds the memory of remembered keys; past it the memory starts over. */
    private static final int MAX_REMEMBERED = 100_000;

    /** A stored key as last read (null key: no such key), and when it was read. */
    private record Remembered(ApiKey key, long readAtNanos) {
    }

    private final ApiKeyRepository repository;
    private final long ttlNanos;
    private final Map<String, Remembered> remembered = new ConcurrentHashMap<>();

    public Authenticator(ApiKeyRepository repository, GatewayConfig config) {
        this.repository = repository;
        this.ttlNanos = config.auth().cacheTtl().toNanos();
    }

    /**
     * The identity of a presented key, or empty when it is malformed, unknown or revoked.
     * Answers without I/O when the key was read recently.
     */
    public Uni<Optional<Identity>> authenticate(String presented) {
        Optional<String> keyId = ApiKeyFormat.keyId(presented);
        if (keyId.isEmpty()) {
            return Uni.createFrom().item(Optional.empty());
        }
        Remembered known = remembered.get(keyId.get());
        if (known != null && System.nanoTime() - known.readAtNanos < ttlNanos) {
            return Uni.createFrom().item(check(presented, known.key));
        }
        return repository.findKey(keyId.get()).map(key -> {
            if (remembered.size() >= MAX_REMEMBERED) {
                remembered.clear();
            }
            remembered.put(keyId.get(), new Remembered(key, System.nanoTime()));
            return check(presented, key);
        });
    }

    /**
     * The rate limits of its own of a key just authenticated (area to requests per window; empty
     * when it has none), as read with the key: a changed limit applies within the same TTL.
     */
    public Map<String, Integer> rateLimits(String keyId) {
        Remembered known = remembered.get(keyId);
        return known == null || known.key == null || known.key.rateLimits == null ? Map.of() : known.key.rateLimits;
    }

    public void forget(String keyId) {
        remembered.remove(keyId);
    }

    private static Optional<Identity> check(String presented, ApiKey key) {
        if (key == null || !key.active() || !ApiKeyFormat.matches(presented, key.keyHash)) {
            return Optional.empty();
        }
        return Optional.of(new Identity(key.keyId, key.team, key.scopeSet()));
    }
}
