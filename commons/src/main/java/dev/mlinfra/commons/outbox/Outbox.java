package dev.mlinfra.commons.outbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.events.EventEnvelope;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;

/**
 * Stages events in the transaction of the state change they announce: call {@link #stage}
 * inside the same {@code @WithTransaction} (or {@code Panache.withTransaction}) that writes the
 * change, so both commit or neither does. The {@link OutboxRelay} publishes them afterwards, in
 * order per subject.
 */
@ApplicationScoped
public class Outbox {

    private final ObjectMapper json;

    public Outbox(ObjectMapper json) {
        this.json = json;
    }

    /** Adds the event to the outbox of the current transaction; fails when there is none. */
    public Uni<Void> stage(String topic, EventEnvelope event) {
        OutboxEvent row = new OutboxEvent();
        row.id = event.id();
        row.topic = topic;
        row.key = event.subject();
        row.type = event.type();
        row.createdAt = Instant.now();
        try {
            row.payload = json.writeValueAsString(event);
        } catch (JsonProcessingException e) {
            return Uni.createFrom().failure(new IllegalStateException("Cannot serialise event " + event.type(), e));
        }
        return Panache.currentTransaction().flatMap(tx -> {
            if (tx == null) {
                // Outside a transaction the event could commit without its change, or the other way round.
                return Uni.createFrom().failure(new IllegalStateException("Outbox.stage(" + event.type()
                        + ") must run inside the transaction that writes the change it announces"));
            }
            return row.persist().replaceWithVoid();
        });
    }
}
