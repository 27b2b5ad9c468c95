package dev.mlinfra.training.service;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlinfra.training.JobStatus;
import dev.mlinfra.training.TrainingJob;
import dev.mlinfra.training.TrainingJobEvent;
import dev.mlinfra.training.messaging.TrainingEvents;
import dev.mlinfra.training.repository.JobEventRepository;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Every change of a job's status goes through here, inside the transaction that holds the job's
 * row lock: the move is checked against {@link JobStatus}'s rules, stamped, written to the job's
 * history, and announced on {@code mlinfra.training} through the outbox; a terminal status also
 * gives the job's GPU capacity back. Appending history only under the job's lock keeps its event
 * ids in commit order, so a stream that resumes after an id misses nothing.
 */
@ApplicationScoped
public class JobTransitions {

    private static final Logger LOG = Logger.getLogger(JobTransitions.class);

    private final TrainingEvents events;
    private final JobEventRepository history;
    private final MeterRegistry metrics;

    public JobTransitions(TrainingEvents events, JobEventRepository history, MeterRegistry metrics) {
        this.events = events;
        this.history = history;
        this.metrics = metrics;
    }

    /** A new job, queued: its first event, its announcement and its request for capacity. */
    public Uni<TrainingJob> created(TrainingJob job) {
        count(job.status);
        return history.persist(TrainingJobEvent.of(job.jobId, TrainingJobEvent.STATUS, "Job queued; waiting for capacity",
                        Map.of("status", job.status.value())))
                .flatMap(e -> events.job("queued", job, null))
                .flatMap(ignored -> events.requestCapacity(job))
                .replaceWith(job);
    }

    /**
     * Moves a locked job to {@code to}.
     *
     * @throws IllegalStateException when the rules do not allow the move (a bug, not a user error)
     */
    public Uni<TrainingJob> move(TrainingJob job, JobStatus to, String message) {
        if (!job.status.canBecome(to)) {
            throw new IllegalStateException("job " + job.jobId + " cannot go from " + job.status.value() + " to " + to.value());
        }
        JobStatus from = job.status;
        Instant now = Instant.now();
        job.status = to;
        job.updatedAt = now;
        if (to == JobStatus.RUNNING && job.startedAt == null) {
            job.startedAt = now;
        }
        if (to == JobStatus.CANCELLING) {
            job.cancelRequestedAt = now;
        }
        if (to.terminal()) {
            job.finishedAt = now;
        }
        count(to);
        LOG.infof("Job %s of team %s: %s -> %s (%s)", job.jobId, job.team, from.value(), to.value(), message);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("status", to.value());
        data.put("previous_status", from.value());
        if (to == JobStatus.FAILED && job.error != null) {
            data.put("error", job.error);
        }
        Uni<Void> announced = history.persist(TrainingJobEvent.of(job.jobId, TrainingJobEvent.STATUS, message, data))
                .flatMap(e -> events.job(eventName(to), job, null));
        if (to.terminal()) {
            announced = announced.flatMap(ignored -> events.releaseCapacity(job, "job " + to.value()));
        }
        return announced.replaceWith(job);
    }

    /** Adds to a locked job's history without a status change. */
    public Uni<Void> record(TrainingJob job, String type, String message, Map<String, Object> data) {
        return history.persist(TrainingJobEvent.of(job.jobId, type, message, data)).replaceWithVoid();
    }

    /** Announces on {@code mlinfra.training} without a status change (progress, checkpoints). */
    public Uni<Void> announce(TrainingJob job, String event, ObjectNode extra) {
        return events.job(event, job, extra);
    }

    private static String eventName(JobStatus status) {
        return switch (status) {
            case QUEUED -> "queued";
            case RUNNING -> "started";
            default -> status.value();
        };
    }

    private void count(JobStatus status) {
        metrics.counter("mlinfra.training.jobs", "status", status.value()).increment();
    }
}
