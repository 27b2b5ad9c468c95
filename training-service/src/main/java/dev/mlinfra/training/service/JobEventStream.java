package dev.mlinfra.training.service;

import dev.mlinfra.training.TrainingJobEvent;
import dev.mlinfra.training.repository.JobEventRepository;
import dev.mlinfra.training.repository.TrainingJobRepository;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A job's history as it happens: the events after a given id, then every new one as it is
 * recorded, until the job has ended and everything is sent. Events are read from the database
 * (so any replica serves any job); a stream that resumes after the last id it saw misses nothing,
 * because events are appended in commit order ({@link JobTransitions}).
 */
@ApplicationScoped
public class JobEventStream {

    /** How often a stream looks for new events. */
    static final Duration POLL = Duration.ofMillis(500);
    private static final int BATCH = 200;

    /** One read: the events found (none is a heartbeat) and whether the stream is over. */
    public record Batch(List<TrainingJobEvent> events, boolean last) {
    }

    private final JobEventRepository history;
    private final TrainingJobRepository jobs;

    public JobEventStream(JobEventRepository history, TrainingJobRepository jobs) {
        this.history = history;
        this.jobs = jobs;
    }

    /** The batches of a job's events after {@code afterId}; call on the request's Vert.x context. */
    public Multi<Batch> follow(String jobId, long afterId) {
        AtomicLong cursor = new AtomicLong(afterId);
        Context context = Vertx.currentContext();
        AtomicLong reads = new AtomicLong();
        return Multi.createBy().repeating()
                .uni(() -> (reads.getAndIncrement() == 0 ? Uni.createFrom().voidItem() : pause(context))
                        .flatMap(ignored -> read(jobId, cursor)))
                .whilst(batch -> !batch.last());
    }

    /**
     * The job is read before its events: a job that reads as ended was ended by a transaction that
     * has committed, with its last events, so the events read next include them. (Read the other way
     * round, that transaction could commit between the two reads and the stream end without them.)
     */
    private Uni<Batch> read(String jobId, AtomicLong cursor) {
        return jobs.findJob(jobId).flatMap(job -> history.after(jobId, cursor.get(), BATCH).map(events -> {
            if (!events.isEmpty()) {
                cursor.set(events.get(events.size() - 1).id);
                return new Batch(events, false);
            }
            // Nothing new: over once the job has ended (its last events are already sent).
            return new Batch(List.of(), job == null || job.status.terminal());
        }));
    }

    /** Waits on a Vert.x timer, so the next read runs on the same context (where the session lives). */
    private static Uni<Void> pause(Context context) {
        return Uni.createFrom().emitter(e -> context.runOnContext(v -> context.owner().setTimer(POLL.toMillis(),
                id -> e.complete(null))));
    }
}
