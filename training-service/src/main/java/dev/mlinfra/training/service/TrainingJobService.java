package dev.mlinfra.training.service;

import dev.mlinfra.commons.api.Page;
import dev.mlinfra.commons.api.PageParams;
import dev.mlinfra.commons.error.ApiException;
import dev.mlinfra.commons.persistence.DatabaseErrors;
import dev.mlinfra.commons.persistence.TextEnum;
import dev.mlinfra.commons.storage.ObjectStore;
import dev.mlinfra.training.JobStatus;
import dev.mlinfra.training.TrainingCheckpoint;
import dev.mlinfra.training.TrainingJob;
import dev.mlinfra.training.TrainingJobEvent;
import dev.mlinfra.training.backend.TrainingBackend;
import dev.mlinfra.training.client.DatasetsClient.DatasetInfo;
import dev.mlinfra.training.client.Peers;
import dev.mlinfra.training.config.TrainingConfig;
import dev.mlinfra.training.repository.CheckpointRepository;
import dev.mlinfra.training.repository.JobEventRepository;
import dev.mlinfra.training.repository.TrainingJobRepository;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.hibernate.reactive.panache.common.WithTransaction;
import io.quarkus.vertx.VertxContextSupport;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * What users do with training jobs: start one (checked against its dataset, idempotent by key),
 * look at it and its history, list them, cancel one. How a job runs is {@link JobRunner}'s.
 */
@ApplicationScoped
public class TrainingJobService {

    private static final Logger LOG = Logger.getLogger(TrainingJobService.class);

    /** A job and, while it is queued, its place in the capacity queue (null when unknown). */
    public record JobState(TrainingJob job, Integer queuePosition) {
    }

    /** The fields of a new job, validated by the caller; {@code config} holds the given hyperparameters only. */
    public record NewJob(String modelType, String datasetId, Map<String, Object> config, String experimentName,
            String description) {
    }

    private final TrainingJobRepository jobs;
    private final JobEventRepository history;
    private final CheckpointRepository checkpoints;
    private final JobTransitions transitions;
    private final TrainingBackend backend;
    private final Peers peers;
    private final ObjectStore store;
    private final TrainingConfig config;

    public TrainingJobService(TrainingJobRepository jobs, JobEventRepository history, CheckpointRepository checkpoints,
            JobTransitions transitions, TrainingBackend backend, Peers peers, ObjectStore store, TrainingConfig config) {
        this.jobs = jobs;
        this.history = history;
        this.checkpoints = checkpoints;
        this.transitions = transitions;
        this.backend = backend;
        this.peers = peers;
        this.store = store;
        this.config = config;
    }

    /**
     * Starts a job: the dataset must be the caller's and ready. With an idempotency key, a retry
     * of the same request returns the job it created, and a different request with the key is a
     * conflict: a network retry never starts a second job.
     */
    public Uni<TrainingJob> create(String team, NewJob request, String idempotencyKey, String requestHash) {
        if (!config.modelTypes().contains(request.modelType())) {
            throw ApiException.badRequest("Invalid field 'model_type': expected one of "
                    + String.join(", ", config.modelTypes()) + ", got '" + request.modelType() + "'");
        }
        Uni<TrainingJob> earlier = idempotencyKey == null ? Uni.createFrom().nullItem()
                : jobs.findByIdempotencyKey(team, idempotencyKey);
        return earlier.flatMap(existing -> {
            if (existing != null) {
                return Uni.createFrom().item(replay(existing, idempotencyKey, requestHash));
            }
            // Checked first without a database connection (an unknown or unready dataset, or dataset-service
            // away, holds none), then again under the dataset's lock, with which the job is committed and
            // which a deletion's question waits for.
            return readyDataset(request.datasetId()).chain(() -> Panache.withTransaction(
                    () -> jobs.lockDataset(team, request.datasetId())
                            .chain(() -> readyDataset(request.datasetId()))
                            .flatMap(dataset -> insert(team, request, dataset, idempotencyKey, requestHash))))
                    // two retries of one request raced: the loser returns the winner's job
                    .onFailure(e -> idempotencyKey != null && DatabaseErrors.uniqueViolation(e))
                    .recoverWithUni(e -> jobs.findByIdempotencyKey(team, idempotencyKey)
                            .map(winner -> replay(winner, idempotencyKey, requestHash)));
        });
    }

    private static TrainingJob replay(TrainingJob existing, String key, String requestHash) {
        if (!existing.requestHash.equals(requestHash)) {
            throw ApiException.conflict("Idempotency-Key '" + key + "' was used for a different request (job "
                    + existing.jobId + "); use a new key for a new job");
        }
        LOG.infof("Idempotent retry with key %s returns job %s", key, existing.jobId);
        return existing;
    }

    /** The fewest records the trainer trains on (it fails a job with fewer). */
    static final int MIN_RECORDS = 2;

    /** The dataset as dataset-service has it now, if the caller's and ready to train on; else the refusal. */
    private Uni<DatasetInfo> readyDataset(String datasetId) {
        return peers.dataset(datasetId)
                .onFailure(e -> !(e instanceof ApiException))
                .transform(e -> Peers.unavailable("dataset-service could not say whether dataset '" + datasetId + "' is ready", e))
                .map(dataset -> checkedDataset(datasetId, dataset));
    }

    private static DatasetInfo checkedDataset(String datasetId, DatasetInfo dataset) {
        if (dataset == null) {
            throw ApiException.notFound("Dataset '" + datasetId + "' not found");
        }
        if (!"ready".equals(dataset.status())) {
            throw ApiException.conflict("Dataset '" + datasetId + "' is " + dataset.status()
                    + "; a job can train only on a ready dataset" + ("pending".equals(dataset.status())
                            ? " (upload its file, or wait until it is validated)" : ""));
        }
        if (dataset.numExamples() != null && dataset.numExamples() < MIN_RECORDS) {
            // the trainer would fail only once the job had waited for a GPU slot
            throw ApiException.conflict("Dataset '" + datasetId + "' has " + dataset.numExamples() + " valid record"
                    + (dataset.numExamples() == 1 ? "" : "s") + "; training needs at least " + MIN_RECORDS
                    + " (records to train on and to hold out for evaluation)");
        }
        return dataset;
    }

    @WithTransaction
    Uni<TrainingJob> insert(String team, NewJob request, DatasetInfo dataset, String idempotencyKey, String requestHash) {
        return jobs.nextNumber().flatMap(number -> {
            Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
            TrainingJob job = new TrainingJob();
            job.id = number;
            job.jobId = TrainingJob.ID_PREFIX + number;
            job.team = team;
            job.modelType = request.modelType();
            job.datasetId = request.datasetId();
            job.dataset = new TrainingJob.DatasetRef(dataset.objectUri(), dataset.format(), dataset.checksumSha256(),
                    dataset.numExamples());
            job.config = request.config();
            job.experimentName = request.experimentName();
            job.description = request.description();
            job.status = JobStatus.QUEUED;
            job.createdAt = now;
            job.updatedAt = now;
            job.outputUri = store.uri("training/" + team + "/" + job.jobId + "/");
            job.backend = backend.name();
            job.idempotencyKey = idempotencyKey;
            job.requestHash = requestHash;
            return jobs.persistAndFlush(job).flatMap(transitions::created);
        });
    }

    public Uni<TrainingJob> get(String team, String jobId) {
        return jobs.findJob(team, jobId).onItem().ifNull().failWith(() -> notFound(jobId));
    }

    /** A job with its place in the queue while it waits for capacity. */
    public Uni<JobState> state(String team, String jobId) {
        return get(team, jobId).flatMap(job -> job.status != JobStatus.QUEUED
                ? Uni.createFrom().item(new JobState(job, null))
                : peers.capacityRequest(jobId).map(r -> new JobState(job,
                        r != null && "waiting".equals(r.status()) ? r.queuePosition() : null)));
    }

    /** {@code status} and {@code modelType} are the raw query values (null: no filter). */
    public Uni<Page<TrainingJob>> list(String team, String status, String modelType, PageParams page) {
        List<JobStatus> statuses = status == null ? JobStatus.ALL
                : List.of(TextEnum.parse("query parameter 'status'", status, JobStatus.ALL));
        if (modelType != null && !config.modelTypes().contains(modelType)) {
            throw ApiException.badRequest("Invalid query parameter 'model_type': expected one of "
                    + String.join(", ", config.modelTypes()) + ", got '" + modelType + "'");
        }
        return jobs.list(team, statuses, modelType, page)
                .flatMap(items -> jobs.count(team, statuses, modelType).map(total -> Page.of("jobs", items, total, page)));
    }

    /**
     * Cancels a job: a queued one at once (it leaves the capacity queue), a running one by asking
     * its trainer to checkpoint and stop ({@code cancelling}, then {@code cancelled}); cancelling
     * again changes nothing; a finished job cannot be cancelled.
     */
    public Uni<TrainingJob> cancel(String team, String jobId) {
        return markCancelled(team, jobId).call(job -> job.status == JobStatus.CANCELLING
                ? VertxContextSupport.executeBlocking(() -> {
                    backend.stop(jobId);
                    return null;
                }).onFailure().recoverWithItem(e -> {
                    // the cancel is committed: a trainer still running after the grace period is ended
                    LOG.warnf("Could not ask the trainer of %s to stop (%s); it is ended if it runs past the cancel's grace"
                            + " period", jobId, e.toString());
                    return null;
                })
                : Uni.createFrom().voidItem());
    }

    @WithTransaction
    Uni<TrainingJob> markCancelled(String team, String jobId) {
        return jobs.lockJob(team, jobId).onItem().ifNull().failWith(() -> notFound(jobId)).flatMap(job -> switch (job.status) {
            case QUEUED -> transitions.move(job, JobStatus.CANCELLED, "Cancelled while queued; it never ran");
            case RUNNING -> transitions.move(job, JobStatus.CANCELLING, "Cancel requested; the trainer checkpoints and stops");
            case CANCELLING -> Uni.createFrom().item(job);
            default -> Uni.createFrom().failure(ApiException.conflict("Job '" + jobId + "' is " + job.status.value()
                    + "; only queued or running jobs can be cancelled"));
        });
    }

    /** A page of a job's history, newest first. */
    public Uni<Page<TrainingJobEvent>> events(String team, String jobId, PageParams page) {
        return get(team, jobId).flatMap(job -> history.page(jobId, page)
                .flatMap(items -> history.count(jobId).map(total -> Page.of("events", items, total, page))));
    }

    public Uni<List<TrainingCheckpoint>> checkpoints(String team, String jobId) {
        return get(team, jobId).flatMap(job -> checkpoints.ofJob(jobId));
    }

    /**
     * The team's queued or running jobs that train on a dataset (it cannot be deleted meanwhile),
     * those whose creation is under way included: the answer waits for their commit.
     */
    @WithTransaction
    public Uni<List<TrainingJob>> usingDataset(String team, String datasetId) {
        return jobs.lockDataset(team, datasetId).chain(() -> jobs.usingDataset(team, datasetId));
    }

    static ApiException notFound(String jobId) {
        return ApiException.notFound("Training job '" + jobId + "' not found");
    }
}
