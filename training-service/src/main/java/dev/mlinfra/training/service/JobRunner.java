package dev.mlinfra.training.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.commons.events.GpuCapacity;
import dev.mlinfra.commons.events.EventInbox;
import dev.mlinfra.commons.storage.ObjectStore;
import dev.mlinfra.commons.storage.S3Config;
import dev.mlinfra.training.JobStatus;
import dev.mlinfra.training.TrainingJob;
import dev.mlinfra.training.TrainingJobEvent;
import dev.mlinfra.training.backend.BackendStatus;
import dev.mlinfra.training.backend.TrainerExit;
import dev.mlinfra.training.backend.TrainingBackend;
import dev.mlinfra.training.config.TrainingConfig;
import dev.mlinfra.training.repository.CheckpointRepository;
import dev.mlinfra.training.repository.TrainingJobRepository;
import io.quarkus.hibernate.reactive.panache.common.WithTransaction;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.quarkus.vertx.VertxContextSupport;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Runs jobs: launches a job's trainer when the ledger grants its capacity, follows it, and turns
 * how the trainer ended into the job's end (completed with its metrics, failed with the reason,
 * cancelled), resuming from the newest checkpoint when a trainer stopped without finishing (its
 * host or this service restarted). At start, and every {@code mlinfra.training.reconcile-interval},
 * every running job is checked against its trainer, so no job stays {@code running} without one.
 */
@ApplicationScoped
public class JobRunner {

    private static final Logger LOG = Logger.getLogger(JobRunner.class);
    private static final String CONSUMER = "training-service";

    private final TrainingJobRepository jobs;
    private final CheckpointRepository checkpoints;
    private final JobTransitions transitions;
    private final TrainingBackend backend;
    private final ProgressRecorder progressRecorder;
    private final EventInbox inbox;
    private final ObjectStore store;
    private final S3Config s3;
    private final TrainingConfig config;
    private final ObjectMapper json;
    private final String kafkaServers;
    /** Jobs whose trainer is being started right now: reconciliation leaves them alone. */
    private final Set<String> launching = ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;

    public JobRunner(TrainingJobRepository jobs, CheckpointRepository checkpoints, JobTransitions transitions,
            TrainingBackend backend, ProgressRecorder progressRecorder, EventInbox inbox, ObjectStore store, S3Config s3, TrainingConfig config,
            ObjectMapper json, @ConfigProperty(name = "kafka.bootstrap.servers") String kafkaServers) {
        this.jobs = jobs;
        this.checkpoints = checkpoints;
        this.transitions = transitions;
        this.backend = backend;
        this.progressRecorder = progressRecorder;
        this.inbox = inbox;
        this.store = store;
        this.s3 = s3;
        this.config = config;
        this.json = json;
        this.kafkaServers = kafkaServers;
    }

    void start(@Observes StartupEvent event) {
        // Exits are reported on a worker thread; the job's end is recorded in a transaction of its own.
        backend.onExit(exit -> {
            if (stopping) {
                return;
            }
            try {
                VertxContextSupport.subscribeAndAwait(() -> ended(exit));
            } catch (Throwable e) {
                LOG.errorf(e, "Could not record how the trainer of %s ended; reconciliation retries", exit.jobId());
            }
        });
        backend.onProgress(progress -> {
            if (stopping) {
                return;
            }
            try {
                VertxContextSupport.subscribeAndAwait(() -> progressRecorder.cluster(progress));
            } catch (Throwable e) {
                LOG.warnf("Could not record the cluster's progress of %s: %s", progress.jobId(), e.toString());
            }
        });
        backend.onNote((jobId, message) -> {
            if (stopping) {
                return;
            }
            try {
                VertxContextSupport.subscribeAndAwait(() -> noted(jobId, message));
            } catch (Throwable e) {
                LOG.warnf("Could not note in the history of %s: %s", jobId, e.toString());
            }
        });
    }

    void stop(@Observes ShutdownEvent event) {
        // Trainers outlive the service (like pods); on the next start they are followed again.
        stopping = true;
    }

    /**
     * Which backend runs trainers, their version, and whether one could start now (for the
     * platform's status). The backend looks at files or a cluster for it, so a worker thread asks.
     */
    public Uni<BackendStatus> backendStatus() {
        return VertxContextSupport.executeBlocking(backend::status);
    }

    // ------------------------------------------------------------------ capacity

    /**
     * A grant from the ledger (applied once): the job starts running and its trainer is launched
     * once that is committed. Ignored when the job is no longer queued. While the end of the job's
     * trainer is being handled, the grant waits for it. Never fails, so the channel goes on.
     */
    public Uni<Void> granted(EventEnvelope event, GpuCapacity.Granted grant) {
        String jobId = grant.requestId();
        return Uni.createFrom().deferred(() -> {
            if (!launching.add(jobId)) {
                return Uni.createFrom().<Void>failure(new Busy(jobId));
            }
            return inbox.applyOnce(event, CONSUMER, () -> markStarted(grant))
                    .flatMap(job -> job == null ? Uni.createFrom().voidItem() : launch(job))
                    .eventually(() -> launching.remove(jobId));
        }).onFailure(Busy.class).retry().withBackOff(Duration.ofMillis(100), Duration.ofSeconds(2)).indefinitely();
    }

    /** Another flow (a launch, or the handling of an end) holds the job. */
    private static final class Busy extends RuntimeException {
        Busy(String jobId) {
            super("job " + jobId + " is being launched", null, false, false);
        }
    }

    /** Inside the transaction that applies the grant. */
    Uni<TrainingJob> markStarted(GpuCapacity.Granted grant) {
        return jobs.lockJob(grant.requestId()).flatMap(job -> {
            if (job == null || job.status != JobStatus.QUEUED) {
                // cancelled meanwhile: its release is on its way to the ledger already
                return Uni.createFrom().nullItem();
            }
            job.attempts++;
            job.progress = null;
            return transitions.move(job, JobStatus.RUNNING, "Capacity granted (" + grant.gpus() + " of pool '"
                    + grant.pool() + "'); the trainer starts");
        });
    }

    /** The ledger can never grant what the job needs: it fails with the ledger's reason. Inside the transaction that applies it. */
    public Uni<Void> denied(GpuCapacity.Denied denial) {
        return jobs.lockJob(denial.requestId()).flatMap(job -> {
            if (job == null || job.status != JobStatus.QUEUED) {
                return Uni.createFrom().voidItem();
            }
            job.error = "no capacity can be granted: " + denial.reason();
            return transitions.move(job, JobStatus.FAILED, "Failed: " + job.error).replaceWithVoid();
        });
    }

    /**
     * Starts the job's trainer on a worker thread and records the launch as made; a trainer that
     * cannot start fails the job. Any other failure leaves the job running without a trainer, which
     * reconciliation finds and launches again (counted as a trainer that was lost). A launch that was
     * decided but never made (this service stopped in between) is made later under its own number.
     */
    private Uni<Void> launch(TrainingJob job) {
        ObjectNode spec = trainerSpec(job);
        String jobId = job.jobId;
        int attempt = job.attempts;
        return VertxContextSupport.executeBlocking(() -> {
            backend.launch(jobId, attempt, spec);
            return (Void) null;
        }).onItemOrFailure().transformToUni((started, failure) -> {
            if (failure == null) {
                return made(jobId, attempt).chain(() -> stopIfCancelled(jobId));
            }
            if (failure instanceof TrainingBackend.LaunchException) {
                return fail(jobId, attempt, failure.getMessage());
            }
            LOG.errorf("Could not start the trainer of %s (%s); reconciliation launches it again", jobId, failure.toString());
            return made(jobId, attempt);
        }).onFailure().recoverWithItem(e -> {
            LOG.errorf("Could not record how launch %d of %s went (%s); reconciliation checks the job again", attempt, jobId,
                    e.toString());
            return null;
        });
    }

    /** Launch {@code attempt} of the job was made: its trainer exists, or its creation failed. */
    @WithTransaction
    Uni<Void> made(String jobId, int attempt) {
        return jobs.lockJob(jobId).invoke(job -> {
            if (job != null && job.launched < attempt) {
                job.launched = attempt;
            }
        }).replaceWithVoid();
    }

    /**
     * Makes the job's latest launch, which was decided but never made (this service stopped between
     * the two), unless another replica made it meanwhile. It is no new attempt: the trainer was
     * never there to be lost. A job cancelled meanwhile ends cancelled.
     */
    private Uni<Void> makeUnmade(String jobId, int attempt) {
        if (!launching.add(jobId)) {
            return Uni.createFrom().voidItem();
        }
        return unmade(jobId, attempt)
                .flatMap(job -> job == null ? Uni.createFrom().voidItem() : launch(job))
                .eventually(() -> launching.remove(jobId));
    }

    /** The job whose launch {@code attempt} is still to be made, readied for it; null when there is none. */
    @WithTransaction
    Uni<TrainingJob> unmade(String jobId, int attempt) {
        return jobs.lockJob(jobId).flatMap(job -> {
            if (job == null || job.status.terminal() || job.status == JobStatus.QUEUED || job.attempts != attempt
                    || job.launched >= attempt || launchMayBeUnderWay(job)) {
                return Uni.createFrom().nullItem();
            }
            if (job.status == JobStatus.CANCELLING) {
                return transitions.move(job, JobStatus.CANCELLED, "Cancelled before its trainer started")
                        .replaceWith((TrainingJob) null);
            }
            LOG.warnf("Launch %d of %s was decided but never made (the service stopped in between); making it now",
                    attempt, jobId);
            job.updatedAt = Instant.now();
            return transitions.record(job, TrainingJobEvent.WARNING, "The trainer of launch " + attempt
                    + " was never started (training-service stopped while starting it); starting it now",
                    Map.of("attempt", attempt)).replaceWith(job);
        });
    }

    /** Another replica may be creating the trainer of the job's latest launch. */
    private boolean launchMayBeUnderWay(TrainingJob job) {
        return job.updatedAt != null && job.updatedAt.plus(backend.launchSettles()).isAfter(Instant.now());
    }

    /**
     * A cancel that came while the trainer was being started found no trainer to stop: once it
     * runs, a job that reads as cancelling has its trainer stopped. (A cancel after this read finds
     * the trainer itself.)
     */
    private Uni<Void> stopIfCancelled(String jobId) {
        return jobs.findJob(jobId).flatMap(job -> job == null || job.status != JobStatus.CANCELLING
                ? Uni.createFrom().voidItem()
                : VertxContextSupport.executeBlocking(() -> {
                    LOG.infof("%s was cancelled while its trainer started; stopping the trainer", jobId);
                    backend.stop(jobId);
                    return (Void) null;
                }));
    }

    /** The launch {@code attempt} could not start its trainer: the job fails, unless it was launched again since. */
    @WithTransaction
    Uni<Void> fail(String jobId, int attempt, String reason) {
        return jobs.lockJob(jobId).flatMap(job -> {
            if (job == null || job.status.terminal() || job.attempts != attempt) {
                return Uni.createFrom().voidItem();
            }
            job.error = reason;
            return transitions.move(job, JobStatus.FAILED, "Failed: " + reason).replaceWithVoid();
        });
    }

    /**
     * The trainer contract (llm-engine/README.md, "Training job"): the dataset, the base model, the
     * hyperparameters as given, where to write, where to report.
     */
    ObjectNode trainerSpec(TrainingJob job) {
        ObjectNode spec = json.createObjectNode();
        spec.put("job_id", job.jobId);
        spec.put("team", job.team);
        spec.put("model_type", job.modelType);
        // the file's checksum when the job was created: a trainer never trains on a file uploaded again since
        spec.putObject("dataset").put("location", job.dataset.uri()).put("format", job.dataset.format())
                .put("sha256", job.dataset.checksumSha256());
        spec.set("config", json.valueToTree(job.config));
        spec.put("output", job.outputUri);
        spec.putObject("s3").put("endpoint", s3.endpoint()).put("access_key", s3.accessKey())
                .put("secret_key", s3.secretKey()).put("region", s3.region());
        spec.putObject("kafka").put("bootstrap_servers", kafkaServers).put("topic", config.progressTopic())
                .put("job_id", job.jobId).put("team", job.team);
        return spec;
    }

    /** What the backend says of a running trainer (the cluster queues it, say), in the job's history. */
    @WithTransaction
    Uni<Void> noted(String jobId, String message) {
        return jobs.lockJob(jobId).flatMap(job -> job == null || job.status.terminal() ? Uni.createFrom().voidItem()
                : transitions.record(job, TrainingJobEvent.INFO, message, Map.of()));
    }

    // ------------------------------------------------------------------ how trainers end

    /**
     * Records how a job's trainer ended. A report about a job whose trainer runs (again) is stale
     * and ignored; one flow at a time per job (launching, or handling an end) decides.
     */
    Uni<Void> ended(TrainerExit exit) {
        String jobId = exit.jobId();
        if (!launching.add(jobId)) {
            return Uni.createFrom().voidItem();
        }
        return VertxContextSupport.executeBlocking(() -> backend.running(jobId))
                .flatMap(running -> running ? Uni.createFrom().<TrainingJob>nullItem() : jobs.findJob(jobId))
                .flatMap(job -> job == null || job.status.terminal() || job.status == JobStatus.QUEUED
                        ? Uni.createFrom().<TrainingJob>nullItem()
                        : VertxContextSupport.executeBlocking(() -> readResults(job.outputUri))
                                .flatMap(metrics -> finish(exit, metrics)))
                .flatMap(relaunch -> relaunch == null ? Uni.createFrom().voidItem() : launch(relaunch))
                .eventually(() -> launching.remove(jobId));
    }

    /** The metrics the trainer wrote when it finished (its last act), or null when it did not finish. */
    private Map<String, Object> readResults(String outputUri) {
        String key = key(outputUri) + "eval/metrics.json";
        if (!store.exists(key)) {
            return null;
        }
        try (InputStream in = store.get(key)) {
            @SuppressWarnings("unchecked")
            Map<String, Object> metrics = json.readValue(in, Map.class);
            return metrics;
        } catch (IOException e) {
            LOG.warnf("Cannot read %s%s: %s", outputUri, "eval/metrics.json", e.toString());
            return null;
        }
    }

    /** The object key of an {@code s3://bucket/key} location in this service's bucket. */
    private String key(String uri) {
        String prefix = "s3://" + store.bucket() + "/";
        return uri.startsWith(prefix) ? uri.substring(prefix.length()) : uri;
    }

    /**
     * Ends the job as the exit says, or, for a trainer that stopped unfinished, readies its relaunch
     * (returned). The end of an earlier launch than the job's latest is stale: another replica of
     * this service heard the same end and launched the job again already (during a rolling update
     * both follow the cluster), and acting on it too would start a second trainer.
     */
    @WithTransaction
    Uni<TrainingJob> finish(TrainerExit exit, Map<String, Object> metrics) {
        return jobs.lockJob(exit.jobId()).flatMap(job -> {
            if (job == null || job.status.terminal() || job.status == JobStatus.QUEUED) {
                return Uni.createFrom().nullItem();
            }
            if (exit.attempt() != null && exit.attempt() != job.attempts) {
                LOG.infof("The end of launch %d of %s (%s) was handled already; the job is at launch %d", exit.attempt(),
                        job.jobId, exit.outcome(), job.attempts);
                return Uni.createFrom().nullItem();
            }
            if (metrics != null) {
                return complete(job, metrics).replaceWith((TrainingJob) null);
            }
            if (job.status == JobStatus.CANCELLING && exit.outcome() != TrainerExit.Outcome.SUCCEEDED) {
                // stopped as asked; ended by the cancel's SIGTERM while still starting (before it heeds it, so
                // before its first step); or killed when it did not stop within the grace period
                String how = exit.outcome() != TrainerExit.Outcome.FAILED ? "Cancelled; the trainer stopped after a checkpoint"
                        : Integer.valueOf(TrainerExit.KILLED_BY_SIGTERM).equals(exit.exitCode())
                                ? "Cancelled; the trainer was stopped while it was starting, before its first step"
                                : "Cancelled; the trainer did not stop in time and was ended (" + exit.reason() + ")";
                return transitions.move(job, JobStatus.CANCELLED, how).replaceWith((TrainingJob) null);
            }
            return switch (exit.outcome()) {
                case SUCCEEDED -> failWith(job, "the trainer ended without writing its evaluation to " + job.outputUri);
                case FAILED -> failWith(job, exit.reason());
                case STOPPED, LOST -> resume(job, exit);
            };
        });
    }

    private Uni<TrainingJob> complete(TrainingJob job, Map<String, Object> metrics) {
        Map<String, Object> shown = new LinkedHashMap<>(metrics);
        shown.remove("samples");
        job.metrics = shown;
        String adapter = job.config.getOrDefault("use_lora", Boolean.TRUE).equals(Boolean.FALSE) ? null : job.outputUri + "adapter/";
        job.artifacts = new TrainingJob.Artifacts(job.outputUri, adapter, adapter == null ? job.outputUri + "model/" : null,
                job.outputUri + "eval/metrics.json");
        if (job.progress != null) {
            job.progress = job.progress.finished();
        }
        return transitions.move(job, JobStatus.COMPLETED, "Completed; evaluated on " + metrics.getOrDefault("num_examples", "?")
                + " held-out records; artifacts in " + job.outputUri);
    }

    private Uni<TrainingJob> failWith(TrainingJob job, String reason) {
        job.error = reason;
        return transitions.move(job, JobStatus.FAILED, "Failed: " + reason).replaceWith((TrainingJob) null);
    }

    /**
     * A trainer stopped without finishing and without a cancel: launched again, it resumes from its
     * newest checkpoint. One that was asked to stop (SIGTERM: {@code ./mlinfra down}, a node drained)
     * and stopped after a checkpoint does not count against the job's launches
     * ({@code mlinfra.training.max-attempts}), which bound the launches that end otherwise (crashes,
     * trainers lost), so that a job outlives any number of restarts of the platform.
     */
    private Uni<TrainingJob> resume(TrainingJob job, TrainerExit exit) {
        boolean asked = exit.outcome() == TrainerExit.Outcome.STOPPED;
        int ended = job.attempts - job.stops;
        if (!asked && ended >= config.maxAttempts()) {
            return failWith(job, "the trainer ended " + ended + " times without finishing (last: "
                    + exit.reason() + "); its checkpoints are in " + job.outputUri + "checkpoints/");
        }
        if (asked) {
            job.stops++;
        }
        job.attempts++;
        job.updatedAt = Instant.now();
        String launch = asked ? "launch " + job.attempts + "; a stop after a checkpoint does not count against the "
                + config.maxAttempts() + " launches a job gets" : "attempt " + (job.attempts - job.stops) + " of " + config.maxAttempts();
        return checkpoints.ofJob(job.jobId).flatMap(saved -> transitions.record(job, TrainingJobEvent.WARNING,
                // The trainer resumes from the newest checkpoint in the object store; the newest one reported may lag it
                // (its report still on its way, when this service was down), and the trainer says where it resumed.
                "The trainer stopped without finishing (" + exit.reason() + "); launching it again (" + launch
                        + "); it resumes from its newest checkpoint in " + job.outputUri + "checkpoints/ ("
                        + (saved.isEmpty() ? "none reported so far; from the start if it saved none"
                                : "the newest reported is at step " + saved.get(0).step) + ")",
                Map.of("attempt", job.attempts)))
                .replaceWith(job);
    }

    // ------------------------------------------------------------------ reconciliation

    /** Checks every running job against its trainer: those without one end (or resume); cancels that stall are enforced. */
    @Scheduled(every = "${mlinfra.training.reconcile-interval}", delayed = "3s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> reconcile() {
        if (stopping) {
            return Uni.createFrom().voidItem();
        }
        return jobs.onBackend(backend.name(), List.of(JobStatus.RUNNING, JobStatus.CANCELLING))
                .flatMap(open -> Multi.createFrom().iterable(open)
                        .onItem().transformToUniAndConcatenate(this::check)
                        .collect().last())
                .replaceWithVoid()
                .onFailure().recoverWithItem(e -> {
                    LOG.warnf("Reconciliation failed, the next round retries: %s", e.toString());
                    return null;
                });
    }

    private Uni<Void> check(TrainingJob job) {
        return VertxContextSupport.executeBlocking(() -> {
            boolean running = backend.running(job.jobId);
            if (running && job.status == JobStatus.CANCELLING && job.cancelRequestedAt != null
                    && job.cancelRequestedAt.plus(config.cancelGrace()).isBefore(Instant.now())) {
                backend.kill(job.jobId);
            }
            if (running) {
                return null;
            }
            // a trainer that ended unseen (the service was away) ends the job as it ended, where the backend can tell:
            // the latest launch's own end
            Optional<TrainerExit> ended = backend.lastExit(job.jobId).filter(e -> e.attempt() == null || e.attempt() == job.attempts);
            if (ended.isPresent()) {
                return ended.get();
            }
            // none: lost, unless the launch may still be under way (another replica creating its trainer)
            if (launchMayBeUnderWay(job)) {
                return null;
            }
            return new TrainerExit(job.jobId, TrainerExit.Outcome.LOST, null, "no trainer runs for the job", job.attempts);
        }).flatMap(exit -> exit == null ? Uni.createFrom().voidItem()
                // never launched, so never lost: the service stopped after deciding the launch
                : job.launched < job.attempts ? makeUnmade(job.jobId, job.attempts)
                : ended(exit));
    }

}
