package dev.mlinfra.commons.events;

import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.UUID;

/**
 * Makes Kafka consumers idempotent. A consumer calls {@link #firstTime} inside the transaction
 * that applies the event and applies it only when the answer is true: the event id is recorded
 * with the effect, so a redelivered event (Kafka delivers at least once) changes nothing, and
 * an effect that rolls back takes its record with it, so the redelivery applies it then.
 *
 * <pre>{@code
 * @Incoming(CHANNEL)
 * Uni<Void> on(EventEnvelope event) {
 *     return Panache.withTransaction(() -> processed.firstTime(event.id(), CHANNEL)
 *             .flatMap(first -> first ? apply(event) : Uni.createFrom().voidItem()));
 * }
 * }</pre>
 */
@ApplicationScoped
public class ProcessedEvents {

    /**
     * Records {@code eventId} as applied by {@code consumer}; true the first time, false when the
     * service has applied it before. Event ids are unique, so the id alone is the key: one service
     * applies each event once, whichever of its consumers sees it.
     */
    public Uni<Boolean> firstTime(UUID eventId, String consumer) {
        return Panache.currentTransaction().flatMap(tx -> {
            if (tx == null) {
                return Uni.createFrom().failure(new IllegalStateException(
                        "ProcessedEvents.firstTime must run inside the transaction that applies the event"));
            }
            // One statement, so two replicas that receive the same event cannot both apply it.
            return Panache.getSession().flatMap(session -> session.createNativeQuery(
                    "INSERT INTO processed_event (event_id, consumer, processed_at) VALUES (?1, ?2, now()) "
                            + "ON CONFLICT (event_id) DO NOTHING")
                    .setParameter(1, eventId)
                    .setParameter(2, consumer)
                    .executeUpdate())
                    .map(inserted -> inserted == 1);
        });
    }
}
