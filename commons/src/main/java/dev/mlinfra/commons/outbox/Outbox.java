package dev.mlinfra.commons.outbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.events.EventEnvelope;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.ZoneOffset;

/**
 * Stages events in the same transaction as the state change they announce. The
 * {@link OutboxRelay} publishes them afterwards, in order per subject.
 */
@ApplicationScoped
public class Outbox {

    private final ObjectMapper json;

    public Outbox(ObjectMapper json) {
        this.json = json;
    }

    /** Adds the event to the outbox; {@code tx} must be the transaction that carries the state change. */
    public Uni<Void> stage(SqlClient tx, String topic, EventEnvelope event) {
        String payload;
        try {
            payload = json.writeValueAsString(event);
        } catch (JsonProcessingException e) {
            return Uni.createFrom().failure(new IllegalStateException("Cannot serialise event " + event.type(), e));
        }
        return tx.preparedQuery("INSERT INTO outbox_event (id, topic, event_key, event_type, payload, created_at) "
                + "VALUES ($1, $2, $3, $4, $5, $6)")
                .execute(Tuple.tuple()
                        .addUUID(event.id())
                        .addString(topic)
                        .addString(event.subject())
                        .addString(event.type())
                        .addValue(new JsonObject(payload))
                        .addOffsetDateTime(java.time.OffsetDateTime.now(ZoneOffset.UTC)))
                .replaceWithVoid();
    }
}
