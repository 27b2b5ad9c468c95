package dev.mlinfra.commons.persistence;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.vertx.core.runtime.context.VertxContextSafetyToggle;
import io.smallrye.common.vertx.VertxContext;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.ObjLongConsumer;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Reads ahead the values a request path remembers from its database, so that steady traffic never
 * waits for a read: a value is trusted for at most {@code ttl} after the read that produced it
 * began, and the first request that finds it older than half of that starts the next read in the
 * background and goes on with the remembered value. A key has at most one read in flight. The
 * read runs on a Vert.x context of its own (a reactive session belongs to its context, and the
 * request's may hold one), after the request's current task. A failed read is logged and leaves
 * the value to expire, when the request path reads it itself and reports the failure.
 *
 * @param <K> what the values are remembered by
 */
public final class ReadAhead<K> {

    private static final Logger LOG = Logger.getLogger(ReadAhead.class);

    private final String what;
    private final long ttlNanos;
    private final Set<K> inFlight = ConcurrentHashMap.newKeySet();
    private final Counter ahead;
    private final Counter onRequest;

    /**
     * {@code what} names the values in log lines (e.g. "API key"); {@code reads} is the name of the
     * counter of their reads, which {@code description} describes.
     */
    public ReadAhead(String what, Duration ttl, MeterRegistry meters, String reads, String description) {
        this.what = what;
        this.ttlNanos = ttl.toNanos();
        this.ahead = Counter.builder(reads).tag("when", "ahead").description(description).register(meters);
        this.onRequest = Counter.builder(reads).tag("when", "on_request").description(description).register(meters);
    }

    /** Counts a read that a request waits for: its value was missing or no longer fresh. */
    public void onRequest() {
        onRequest.increment();
    }

    /** Whether a value whose read began at {@code readAtNanos} ({@link System#nanoTime()}) may still be trusted. */
    public boolean fresh(long readAtNanos, long nowNanos) {
        return nowNanos - readAtNanos < ttlNanos;
    }

    /**
     * Starts {@code read} of {@code key} in the background when the value whose read began at
     * {@code readAtNanos} is past half its time and no read of the key is in flight;
     * {@code store} gets what it read and the {@link System#nanoTime()} at which it began. False
     * when no read was started.
     */
    public <V> boolean refreshIfDue(K key, long readAtNanos, long nowNanos, Supplier<Uni<V>> read,
            ObjLongConsumer<V> store) {
        if (nowNanos - readAtNanos < ttlNanos / 2 || !inFlight.add(key)) {
            return false;
        }
        Context current = Vertx.currentContext();
        if (current == null) {
            inFlight.remove(key);
            return false;
        }
        ahead.increment();
        Context own = VertxContext.createNewDuplicatedContext(current);
        VertxContextSafetyToggle.setContextSafe(own, true);
        own.runOnContext(v -> {
            long began = System.nanoTime();
            Uni<V> reading;
            try {
                reading = read.get();
            } catch (RuntimeException e) {
                failed(key).accept(e);
                return;
            }
            reading.subscribe().with(value -> {
                try {
                    store.accept(value, began);
                } finally {
                    inFlight.remove(key);
                }
            }, failed(key));
        });
        return true;
    }

    private Consumer<Throwable> failed(K key) {
        return e -> {
            inFlight.remove(key);
            LOG.warnf("Could not read the %s %s ahead of its expiry (the next request reads it instead): %s", what, key,
                    e.toString());
        };
    }
}
