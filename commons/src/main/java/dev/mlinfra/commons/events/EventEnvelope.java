package dev.mlinfra.commons.events;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

/**
 * The envelope of every Kafka message: {@code subject} is the resource id and also the record
 * key, so the events of one resource stay ordered; {@code id} lets consumers drop repeats.
 */
public record EventEnvelope(UUID id, String type, String source, Instant time, String team, String subject,
        JsonNode data) {

    public static EventEnvelope of(String type, String source, String team, String subject, JsonNode data) {
        return new EventEnvelope(UUID.randomUUID(), type, source, Instant.now().truncatedTo(ChronoUnit.SECONDS), team,
                subject, data);
    }
}
