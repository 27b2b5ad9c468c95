package dev.mlinfra.datasets.messaging;

import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.commons.events.EventInbox;
import dev.mlinfra.datasets.service.DatasetReferences;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Follows training-service's job events ({@code mlinfra.training}) to know which datasets open jobs
 * train on. Each event is applied once, in order per job (the job id is the key), retried until
 * it succeeds ({@link EventInbox}).
 */
@ApplicationScoped
public class TrainingJobEvents {

    public static final String CHANNEL = "training-jobs";
    private static final String PREFIX = "training.job.";

    private final DatasetReferences references;
    private final EventInbox inbox;

    public TrainingJobEvents(DatasetReferences references, EventInbox inbox) {
        this.references = references;
        this.inbox = inbox;
    }

    @Incoming(CHANNEL)
    public Uni<Void> on(String message) {
        EventEnvelope event = inbox.read(message, CHANNEL);
        if (event == null || !event.type().startsWith(PREFIX) || event.data() == null
                || !event.data().hasNonNull("dataset_id") || !event.data().hasNonNull("status")) {
            return Uni.createFrom().voidItem();
        }
        String datasetId = event.data().get("dataset_id").asText();
        String status = event.data().get("status").asText();
        return inbox.applyOnce(event, CHANNEL, () -> references.jobChanged(event.team(), event.subject(), datasetId, status));
    }
}
