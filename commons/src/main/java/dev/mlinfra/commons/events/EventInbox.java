package dev.mlinfra.commons.events;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * How every Kafka consumer of the platform takes in events: it reads the envelope tolerantly
 * (events may grow fields, as response bodies may), and applies an event's effect once, in one
 * transaction that first records the event's id ({@link ProcessedEvents}), so a redelivered event
 * changes nothing. An effect that fails (the database is away) is retried with back-off until it
 * succeeds, so the consumer's records are applied in order and none is lost; once the application
 * stops, the effects under way finish before its database pool closes, and an event that has not
 * started (or fails) is left unacknowledged, neither retried nor failed (the broker delivers it
 * again after the restart).
 *
 * <pre>{@code
 * @Incoming(CHANNEL)
 * public Uni<Void> on(String message) {
 *     EventEnvelope event = inbox.read(message, CHANNEL);
 *     return event == null || !TYPE.equals(event.type()) ? Uni.createFrom().voidItem()
 *             : inbox.applyOnce(event, CHANNEL, () -> service.apply(...)).replaceWithVoid();
 * }
 * }</pre>
 */
@ApplicationScoped
public class EventInbox {

    private static final Logger LOG = Logger.getLogger(EventInbox.class);
    /** How long a stop waits for the effects under way. */
    private static final Duration STOP_WAIT = Duration.ofSeconds(10);

    private final ProcessedEvents processed;
    private final EventsConfig config;
    private final ObjectMapper json;
    private final ObjectReader envelopes;
    private volatile boolean stopping;
    /** Attempts under way; counted before {@link #stopping} is read, so that a stop waits for any it lets start. */
    private final AtomicInteger inFlight = new AtomicInteger();

    public EventInbox(ProcessedEvents processed, EventsConfig config, ObjectMapper json) {
        this.processed = processed;
        this.config = config;
        this.json = json;
        this.envelopes = json.readerFor(EventEnvelope.class).without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }

    /**
     * From now on no attempt starts; the attempts under way may finish (their database pool closes
     * after this), so none is cut halfway, for at most {@link #STOP_WAIT}.
     */
    void stop(@Observes ShutdownEvent event) {
        stopping = true;
        long deadline = System.nanoTime() + STOP_WAIT.toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (inFlight.get() > 0) {
            LOG.infof("%d event(s) still being applied after %s; their transactions end with the service and the broker"
                    + " delivers them again after the restart", inFlight.get(), STOP_WAIT);
        }
    }

    /** The event in a message, or null (logged) when the message is no event envelope with an id and a type. */
    public EventEnvelope read(String message, String consumer) {
        try {
            EventEnvelope event = envelopes.readValue(message);
            if (event != null && event.id() != null && event.type() != null) {
                return event;
            }
            LOG.warnf("%s skips a message without event id or type", consumer);
        } catch (IOException e) {
            LOG.warnf("%s skips a message that is no event envelope: %s", consumer, e.getMessage());
        }
        return null;
    }

    /** An event's data as {@code type}, read tolerantly. */
    public <T> T data(EventEnvelope event, Class<T> type) throws IOException {
        return json.readerFor(type).without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).readValue(event.data());
    }

    /**
     * Applies {@code effect} for {@code event} once: inside one transaction that records the event
     * as processed by {@code consumer}; null when the event was applied before. Retried, with a new
     * transaction each time, until it succeeds. Once the application stops, no attempt starts (its
     * database connections close once those under way end), and one that fails is not retried: the
     * event never completes, stays unacknowledged, and the broker delivers it again after the restart.
     */
    public <T> Uni<T> applyOnce(EventEnvelope event, String consumer, Supplier<Uni<T>> effect) {
        AtomicInteger failures = new AtomicInteger();
        return Uni.createFrom().deferred(() -> {
                    inFlight.incrementAndGet();
                    if (stopping) {
                        inFlight.decrementAndGet();
                        return leave(event, consumer, null);
                    }
                    return Panache.withTransaction(() -> processed.firstTime(event.id(), consumer)
                                    .flatMap(first -> first ? effect.get() : Uni.createFrom().<T>nullItem()))
                            .onTermination().invoke(inFlight::decrementAndGet);
                })
                .onFailure(e -> stopping).recoverWithUni(e -> leave(event, consumer, e))
                .onFailure().invoke(e -> {
                    if (failures.incrementAndGet() == 1) {
                        LOG.warnf("%s could not apply %s event %s of %s; retrying until it succeeds: %s", consumer,
                                event.type(), event.id(), event.subject(), e.toString());
                    }
                })
                .onFailure().retry().withBackOff(config.retry().initialBackoff(), config.retry().maxBackoff())
                .indefinitely()
                .invoke(() -> {
                    if (failures.get() > 0) {
                        LOG.infof("%s applied %s event %s of %s after %d failed attempts", consumer, event.type(), event.id(),
                                event.subject(), failures.get());
                    }
                });
    }

    /** Leaves an event unacknowledged while the application stops: it never completes. */
    private static <T> Uni<T> leave(EventEnvelope event, String consumer, Throwable failure) {
        LOG.infof("%s leaves %s event %s of %s to its redelivery after the restart: the service is stopping%s", consumer,
                event.type(), event.id(), event.subject(), failure == null ? "" : " (" + failure + ")");
        return Uni.createFrom().nothing();
    }
}
