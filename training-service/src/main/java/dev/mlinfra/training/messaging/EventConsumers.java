package dev.mlinfra.training.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.commons.events.GpuCapacity;
import dev.mlinfra.training.service.JobRunner;
import dev.mlinfra.training.service.ProgressRecorder;
import io.smallrye.mutiny.Uni;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.time.Duration;
import java.util.function.Supplier;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * The Kafka events training-service acts on: grants and denials of GPU capacity for its jobs
 * ({@code mlinfra.gpu}) and the trainers' reports ({@code mlinfra.training.progress}). Each is
 * applied in its own transaction, once (processed event ids); a failure (the database is away)
 * is retried with back-off until it succeeds, so no event is lost and the order per job holds.
 */
@ApplicationScoped
public class EventConsumers {

    public static final String GPU = "gpu";
    public static final String PROGRESS = "training-progress";
    private static final Logger LOG = Logger.getLogger(EventConsumers.class);
    private static final Duration FIRST_RETRY = Duration.ofMillis(200);
    private static final Duration LONGEST_RETRY = Duration.ofSeconds(10);

    private final JobRunner runner;
    private final ProgressRecorder progress;
    private final ObjectMapper json;
    /** Once the service stops, failures (its pool is closing) are no longer retried: the broker redelivers them. */
    private volatile boolean stopping;

    public EventConsumers(JobRunner runner, ProgressRecorder progress, ObjectMapper json) {
        this.runner = runner;
        this.progress = progress;
        this.json = json;
    }

    void stop(@Observes ShutdownEvent event) {
        stopping = true;
    }

    @Incoming(GPU)
    public Uni<Void> capacity(String message) {
        EventEnvelope event = parse(message);
        if (event == null || event.data() == null) {
            return Uni.createFrom().voidItem();
        }
        Supplier<Uni<Void>> applied;
        try {
            applied = switch (event.type()) {
                case GpuCapacity.GRANTED -> {
                    GpuCapacity.Granted grant = json.treeToValue(event.data(), GpuCapacity.Granted.class);
                    yield TrainingEvents.SOURCE.equals(grant.requester()) ? () -> runner.granted(event, grant) : null;
                }
                case GpuCapacity.DENIED -> {
                    GpuCapacity.Denied denial = json.treeToValue(event.data(), GpuCapacity.Denied.class);
                    yield TrainingEvents.SOURCE.equals(denial.requester()) ? () -> runner.denied(event, denial) : null;
                }
                default -> null;
            };
        } catch (IOException e) {
            LOG.warnf("Skipping %s event %s with unreadable data: %s", event.type(), event.id(), e.getMessage());
            return Uni.createFrom().voidItem();
        }
        return applied == null ? Uni.createFrom().voidItem() : retried(applied, event);
    }

    @Incoming(PROGRESS)
    public Uni<Void> progress(String message) {
        EventEnvelope event = parse(message);
        if (event == null || event.subject() == null || event.data() == null) {
            return Uni.createFrom().voidItem();
        }
        return retried(() -> progress.apply(event), event);
    }

    /** Applies the event, building the work anew for every attempt. */
    private Uni<Void> retried(Supplier<Uni<Void>> work, EventEnvelope event) {
        return Uni.createFrom().deferred(work::get).onFailure().invoke(e -> LOG.warnf("Applying %s event %s of %s failed, retrying: %s", event.type(),
                        event.id(), event.subject(), e.toString()))
                .onFailure(e -> !stopping).retry().withBackOff(FIRST_RETRY, LONGEST_RETRY).indefinitely();
    }

    private EventEnvelope parse(String message) {
        try {
            return json.readValue(message, EventEnvelope.class);
        } catch (IOException e) {
            LOG.warnf("Skipping a message that is no event envelope: %s", e.getMessage());
            return null;
        }
    }
}
