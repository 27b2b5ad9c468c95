package dev.mlinfra.training.service;

import dev.mlinfra.training.TrainingJob;
import dev.mlinfra.training.backend.TrainerExit;
import dev.mlinfra.training.repository.TrainingJobRepository;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.vertx.VertxContextSupport;
import java.time.Duration;
import java.time.Instant;

/** A trainer's end handed to the job runner as a replica that heard it would, for the tests of other packages. */
public final class TrainerEnds {

    private TrainerEnds() {
    }

    /** What the runner does with the end of a trainer that did not finish: the job to launch again, or null. */
    public static TrainingJob handle(JobRunner runner, TrainerExit exit) throws Throwable {
        return VertxContextSupport.subscribeAndAwait(() -> runner.finish(exit, null));
    }

    /** As when the job's first trainer was launched and a cancel then asked it to stop. */
    public static void launchedAndCancelling(TrainingJobRepository jobs, String jobId) throws Throwable {
        VertxContextSupport.subscribeAndAwait(() -> Panache.withTransaction(() -> jobs.lockJob(jobId).invoke(job -> {
            job.status = dev.mlinfra.training.JobStatus.CANCELLING;
            job.attempts = 1;
            job.launched = 1;
            job.startedAt = Instant.now();
        })));
    }

    /** As when the job's trainer was launched for the {@code launches}th time and runs. */
    public static void running(TrainingJobRepository jobs, String jobId, int launches) throws Throwable {
        VertxContextSupport.subscribeAndAwait(() -> Panache.withTransaction(() -> jobs.lockJob(jobId).invoke(job -> {
            job.status = dev.mlinfra.training.JobStatus.RUNNING;
            job.attempts = launches;
            job.launched = launches;
            job.startedAt = Instant.now();
        })));
    }

    /** The job's launches: {decided, made}. */
    public static int[] launches(TrainingJobRepository jobs, String jobId) throws Throwable {
        TrainingJob job = VertxContextSupport.subscribeAndAwait(() -> Panache.withSession(() -> jobs.findJob(jobId)));
        return new int[] {job.attempts, job.launched};
    }

    /**
     * As when a replica decided the job's next launch (its trainer lost) and stopped before making
     * it, long enough ago that no replica can still be making it.
     */
    public static void nextLaunchDecidedOnly(TrainingJobRepository jobs, String jobId) throws Throwable {
        VertxContextSupport.subscribeAndAwait(() -> Panache.withTransaction(() -> jobs.lockJob(jobId).invoke(job -> {
            job.attempts++;
            job.updatedAt = Instant.now().minus(Duration.ofHours(1));
        })));
    }
}
