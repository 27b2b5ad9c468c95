package dev.mlinfra.gateway.auth;

import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.commons.persistence.ReadAhead;
import dev.mlinfra.gateway.ApiKey;
import dev.mlinfra.gateway.config.GatewayConfig;
import dev.mlinfra.gateway.repository.ApiKeyRepository;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Turns a presented API key into an {@link Identity}. Stored keys are remembered for at most
 * the configured TTL, so every replica sees a revocation (or a changed rate limit) within that time
 * without a database round trip on each request; the replica that changes a key forgets it at once.
 * A key in use is read again ahead of its expiry ({@link ReadAhead}), so its requests do not wait
 * for the database; the counter {@value #READS} counts the reads by whether a request waited
 * ({@code when=on_request}) or not ({@code when=ahead}). While the keys cannot be read, a key read
 * within {@code mlinfra.gateway.auth.outage-grace} is trusted as it was read.
 */
@ApplicationScoped
public class Authenticator {

    private static final Logger LOG = Logger.getLogger(Authenticator.class);
    /** Bounds the memory of remembered keys; past it the memory starts over. */
    private static final int MAX_REMEMBERED = 100_000;
    static final String READS = "mlinfra.gateway.api_key.reads";
    private static final String READS_DESCRIPTION = "API keys read from the database, by whether a request waited for the read";

    /**
     * A stored key as last read (null key: no such key), the identity it stands for with its limits
     * (null when none, or the key is revoked), and when it was read.
     */
    private record Remembered(ApiKey key, Authenticated authenticated, long readAtNanos) {

        Remembered(ApiKey key, long readAtNanos) {
            this(key, key == null || !key.active() ? null : new Authenticated(new Identity(key.keyId, key.team, key.scopeSet()),
                    key.rateLimits == null ? Map.of() : key.rateLimits), readAtNanos);
        }
    }

    private final ApiKeyRepository repository;
    private final ReadAhead<String> ahead;
    private final long outageGraceNanos;
    private final Duration readTimeout;
    /** Whether the last read of a key on a request failed: the outage is logged once, and its end. */
    private final AtomicBoolean unreadable = new AtomicBoolean();
    private final Map<String, Remembered> remembered = new ConcurrentHashMap<>();
    /** Counts {@link #forget}s: a read that began before one is not remembered. */
    private final AtomicLong forgets = new AtomicLong();

    public Authenticator(ApiKeyRepository repository, GatewayConfig config, MeterRegistry meters) {
        this.repository = repository;
        this.ahead = new ReadAhead<>("API key", config.auth().cacheTtl(), meters, READS, READS_DESCRIPTION);
        this.outageGraceNanos = config.auth().outageGrace().toNanos();
        this.readTimeout = config.auth().readTimeout();
    }

    /**
     * The identity of an authenticated key and its own rate limits (area to requests per window;
     * empty when it has none), as read with the key: a changed limit applies within the same TTL.
     */
    public record Authenticated(Identity identity, Map<String, Integer> rateLimits) {
    }

    /**
     * Hands {@code then} the identity of a presented key with its limits, or empty when it is
     * malformed, unknown or revoked; {@code failed} when the keys cannot be read. When the key was read recently (the
     * common case) {@code then} runs at once, on the caller's thread, with no I/O and no
     * {@link Uni} (whose context propagation cost more than the lookup); else when the read completes.
     */
    public void authenticate(String presented, Consumer<Optional<Authenticated>> then, Consumer<Throwable> failed) {
        Optional<String> keyId = ApiKeyFormat.keyId(presented);
        if (keyId.isEmpty()) {
            then.accept(Optional.empty());
            return;
        }
        String id = keyId.get();
        Remembered known = remembered.get(id);
        long now = System.nanoTime();
        if (known != null && ahead.fresh(known.readAtNanos, now)) {
            long generation = forgets.get();
            ahead.refreshIfDue(id, known.readAtNanos, now, () -> repository.findKey(id),
                    (key, readAt) -> remember(id, key, readAt, generation));
            then.accept(check(presented, known));
            return;
        }
        ahead.onRequest();
        long generation = forgets.get();
        repository.findKey(id)
                .ifNoItem().after(readTimeout).failWith(() -> new TimeoutException("the database did not answer within "
                        + readTimeout.toMillis() + " ms"))
                .map(key -> check(presented, remember(id, key, now, generation))).subscribe().with(
                authenticated -> {
                    if (unreadable.compareAndSet(true, false)) {
                        LOG.info("API keys are read from the database again");
                    }
                    then.accept(authenticated);
                },
                failure -> {
                    if (known == null || now - known.readAtNanos > outageGraceNanos) {
                        failed.accept(failure);
                        return;
                    }
                    if (unreadable.compareAndSet(false, true)) {
                        LOG.warnf("API keys cannot be read (%s); keys read in the last %d s are trusted as they were"
                                + " until the database answers", failure.toString(), outageGraceNanos / 1_000_000_000L);
                    }
                    then.accept(check(presented, known));
                });
    }

    /** Remembers a key read at {@code readAtNanos}, unless a key was forgotten since the read began. */
    private Remembered remember(String keyId, ApiKey key, long readAtNanos, long generation) {
        Remembered known = new Remembered(key, readAtNanos);
        if (remembered.size() >= MAX_REMEMBERED) {
            remembered.clear();
        }
        remembered.put(keyId, known);
        // Checked after the put: a forget either shows here or removes the entry after it.
        if (forgets.get() != generation) {
            remembered.remove(keyId, known);
        }
        return known;
    }

    public void forget(String keyId) {
        forgets.incrementAndGet();
        remembered.remove(keyId);
    }

    private static Optional<Authenticated> check(String presented, Remembered known) {
        if (known.authenticated == null || !ApiKeyFormat.matches(presented, known.key.keyHash)) {
            return Optional.empty();
        }
        return Optional.of(known.authenticated);
    }
}
