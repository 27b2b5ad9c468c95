package dev.mlinfra.training.messaging;

import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.commons.events.EventInbox;
import dev.mlinfra.commons.events.GpuCapacity;
import dev.mlinfra.training.service.JobRunner;
import dev.mlinfra.training.service.ProgressRecorder;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * The Kafka events training-service acts on: grants and denials of GPU capacity for its jobs
 * ({@code mlinfra.gpu}) and the trainers' reports ({@code mlinfra.training.progress}). Each is
 * applied once, in its own transaction, retried until it succeeds ({@link EventInbox}), so no
 * event is lost and the order per job holds.
 */
@ApplicationScoped
public class EventConsumers {

    public static final String GPU = "gpu";
    public static final String PROGRESS = "training-progress";
    private static final Logger LOG = Logger.getLogger(EventConsumers.class);

    private final JobRunner runner;
    private final ProgressRecorder progress;
    private final EventInbox inbox;

    public EventConsumers(JobRunner runner, ProgressRecorder progress, EventInbox inbox) {
        this.runner = runner;
        this.progress = progress;
        this.inbox = inbox;
    }

    @Incoming(GPU)
    public Uni<Void> capacity(String message) {
        EventEnvelope event = inbox.read(message, GPU);
        if (event == null || event.data() == null) {
            return Uni.createFrom().voidItem();
        }
        try {
            switch (event.type()) {
                case GpuCapacity.GRANTED -> {
                    GpuCapacity.Granted grant = inbox.data(event, GpuCapacity.Granted.class);
                    if (TrainingEvents.SOURCE.equals(grant.requester())) {
                        return runner.granted(event, grant);
                    }
                }
                case GpuCapacity.DENIED -> {
                    GpuCapacity.Denied denial = inbox.data(event, GpuCapacity.Denied.class);
                    if (TrainingEvents.SOURCE.equals(denial.requester())) {
                        return inbox.applyOnce(event, GPU, () -> runner.denied(denial));
                    }
                }
                default -> {
                    // requests and releases are the ledger's
                }
            }
        } catch (IOException e) {
            LOG.warnf("Skipping %s event %s with unreadable data: %s", event.type(), event.id(), e.getMessage());
        }
        return Uni.createFrom().voidItem();
    }

    @Incoming(PROGRESS)
    public Uni<Void> progress(String message) {
        EventEnvelope event = inbox.read(message, PROGRESS);
        if (event == null || event.subject() == null || event.data() == null) {
            return Uni.createFrom().voidItem();
        }
        return inbox.applyOnce(event, PROGRESS, () -> progress.apply(event));
    }
}
