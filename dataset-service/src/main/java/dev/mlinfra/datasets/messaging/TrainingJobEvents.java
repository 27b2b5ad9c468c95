package dev.mlinfra.datasets.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.commons.events.ProcessedEvents;
import dev.mlinfra.datasets.service.DatasetReferences;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Uni;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.time.Duration;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Follows training-service's job events ({@code mlinfra.training}) to know which datasets open jobs
 * train on. Each event is applied once (processed event ids), in order per job (the job id is the
 * key); a failure is retried with back-off until it succeeds.
 */
@ApplicationScoped
public class TrainingJobEvents {

    public static final String CHANNEL = "training-jobs";
    private static final Logger LOG = Logger.getLogger(TrainingJobEvents.class);
    private static final String PREFIX = "training.job.";

    private final DatasetReferences references;
    private final ProcessedEvents processed;
    private final ObjectMapper json;
    /** Once the service stops, failures (its pool is closing) are no longer retried: the broker redelivers them. */
    private volatile boolean stopping;

    public TrainingJobEvents(DatasetReferences references, ProcessedEvents processed, ObjectMapper json) {
        this.references = references;
        this.processed = processed;
        this.json = json;
    }

    void stop(@Observes ShutdownEvent event) {
        stopping = true;
    }

    @Incoming(CHANNEL)
    public Uni<Void> on(String message) {
        EventEnvelope event;
        try {
            event = json.readValue(message, EventEnvelope.class);
        } catch (IOException e) {
            LOG.warnf("Skipping a message that is no event envelope: %s", e.getMessage());
            return Uni.createFrom().voidItem();
        }
        if (event.type() == null || !event.type().startsWith(PREFIX) || event.data() == null
                || !event.data().hasNonNull("dataset_id") || !event.data().hasNonNull("status")) {
            return Uni.createFrom().voidItem();
        }
        String jobId = event.subject();
        String datasetId = event.data().get("dataset_id").asText();
        String status = event.data().get("status").asText();
        return Uni.createFrom().deferred(() -> Panache.withTransaction(() -> processed.firstTime(event.id(), CHANNEL)
                        .flatMap(first -> first ? references.jobChanged(event.team(), jobId, datasetId, status)
                                : Uni.createFrom().voidItem())))
                .onFailure().invoke(e -> LOG.warnf("Applying %s of %s failed, retrying: %s", event.type(), jobId, e.toString()))
                .onFailure(e -> !stopping).retry().withBackOff(Duration.ofMillis(200), Duration.ofSeconds(10)).indefinitely();
    }
}
