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
import java.util.function.Consumer;

/**
 * Turns a presented API key into an {@link Identity}. Stored keys are remembered for at most
 * the configured TTL, so every replica sees a revocation (or a changed rate limit) within that time
 * without a database round trip on each request; the replica that changes a key forgets it at once.
 */
@ApplicationScoped
public class Authenticator {

    /** Bounds the memory of remembered keys; past it the memory starts over. */
    private static final int MAX_REMEMBERED = 100_000;

    /**
     * A stored key as last read (null key: no such key), the identity it stands for (null when
     * none, or the key is revoked), and when it was read.
     */
    private record Remembered(ApiKey key, Identity identity, long readAtNanos) {

        Remembered(ApiKey key, long readAtNanos) {
            this(key, key == null || !key.active() ? null : new Identity(key.keyId, key.team, key.scopeSet()), readAtNanos);
        }
    }

    private final ApiKeyRepository repository;
    private final long ttlNanos;
    private final Map<String, Remembered> remembered = new ConcurrentHashMap<>();

    public Authenticator(ApiKeyRepository repository, GatewayConfig config) {
        this.repository = repository;
        this.ttlNanos = config.auth().cacheTtl().toNanos();
    }

    /**
     * Hands {@code then} the identity of a presented key, or empty when it is malformed, unknown
     * or revoked; {@code failed} when the keys cannot be read. When the key was read recently (the
     * common case) {@code then} runs at once, on the caller's thread, with no I/O and no
     * {@link Uni} (whose context propagation cost more than the lookup); else when the read completes.
     */
    public void authenticate(String presented, Consumer<Optional<Identity>> then, Consumer<Throwable> failed) {
        Optional<String> keyId = ApiKeyFormat.keyId(presented);
        if (keyId.isEmpty()) {
            then.accept(Optional.empty());
            return;
        }
        Remembered known = recent(keyId.get());
        if (known != null) {
            then.accept(check(presented, known));
            return;
        }
        read(presented, keyId.get()).subscribe().with(then, failed);
    }

    private Remembered recent(String keyId) {
        Remembered known = remembered.get(keyId);
        return known != null && System.nanoTime() - known.readAtNanos < ttlNanos ? known : null;
    }

    private Uni<Optional<Identity>> read(String presented, String keyId) {
        return repository.findKey(keyId).map(key -> {
            if (remembered.size() >= MAX_REMEMBERED) {
                remembered.clear();
            }
            Remembered known = new Remembered(key, System.nanoTime());
            remembered.put(keyId, known);
            return check(presented, known);
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

    private static Optional<Identity> check(String presented, Remembered known) {
        if (known.identity == null || !ApiKeyFormat.matches(presented, known.key.keyHash)) {
            return Optional.empty();
        }
        return Optional.of(known.identity);
    }
}
