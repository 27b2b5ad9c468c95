package dev.mlinfra.training.repository;

import dev.mlinfra.commons.api.PageParams;
import dev.mlinfra.commons.persistence.Filters;
import dev.mlinfra.training.JobStatus;
import dev.mlinfra.training.TrainingJob;
import io.quarkus.hibernate.reactive.panache.PanacheRepositoryBase;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.panache.common.Parameters;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.LockModeType;
import java.util.Collection;
import java.util.List;

/** Training jobs in the service's database. */
@ApplicationScoped
@WithSession
public class TrainingJobRepository implements PanacheRepositoryBase<TrainingJob, Long> {

    /** The number of a new job, from the installation-wide sequence. */
    public Uni<Long> nextNumber() {
        return getSession().flatMap(s -> s.createNativeQuery("SELECT nextval('training_job_number')", Long.class)
                .getSingleResult());
    }

    /** The first key of the advisory locks on a team's dataset (the second is the hash of team and dataset). */
    static final int DATASET_LOCK_SPACE = 7101;

    /**
     * Takes, until the caller's transaction ends, the lock on a team's dataset that a job's creation
     * holds from the check of the dataset to its commit and that the answer to "which jobs use this
     * dataset" waits for: a deletion that asks sees a job whose creation was under way.
     */
    public Uni<Void> lockDataset(String team, String datasetId) {
        return getSession().flatMap(s -> s.createNativeQuery("SELECT 1 FROM pg_advisory_xact_lock(?1, hashtext(?2))", Integer.class)
                .setParameter(1, DATASET_LOCK_SPACE).setParameter(2, team + "/" + datasetId).getSingleResult())
                .replaceWithVoid();
    }

    public Uni<TrainingJob> findJob(String team, String jobId) {
        return find("team = ?1 and jobId = ?2", team, jobId).firstResult();
    }

    /** A job by id alone, for the service's own work (trainers and the ledger name jobs by id). */
    public Uni<TrainingJob> findJob(String jobId) {
        return find("jobId", jobId).firstResult();
    }

    /** The same, locked for the caller's transaction. */
    public Uni<TrainingJob> lockJob(String jobId) {
        return find("jobId", jobId).withLock(LockModeType.PESSIMISTIC_WRITE).firstResult();
    }

    public Uni<TrainingJob> lockJob(String team, String jobId) {
        return find("team = ?1 and jobId = ?2", team, jobId).withLock(LockModeType.PESSIMISTIC_WRITE).firstResult();
    }

    public Uni<TrainingJob> findByIdempotencyKey(String team, String key) {
        return find("team = ?1 and idempotencyKey = ?2", team, key).firstResult();
    }

    public Uni<List<TrainingJob>> list(String team, Collection<JobStatus> statuses, String modelType, PageParams page) {
        Filters f = Filters.where("team", team).andIn("status", statuses).and("modelType", modelType);
        return find(f.query() + " order by createdAt desc, id desc", f.parameters())
                .range(page.offset(), page.offset() + page.limit() - 1).list();
    }

    /**
     * The number of the team's jobs under the filters, from the counts triggers keep per team,
     * status and model type (V3 migration): a few rows to read however many jobs there are.
     */
    public Uni<Long> count(String team, Collection<JobStatus> statuses, String modelType) {
        return getSession().flatMap(s -> s.createNativeQuery("SELECT coalesce(sum(jobs), 0) FROM training_job_count"
                        + " WHERE team = ?1 AND status IN (?2) AND model_type = coalesce(?3, model_type)", Long.class)
                .setParameter(1, team)
                .setParameter(2, statuses.stream().map(JobStatus::value).toList())
                .setParameter(3, modelType)
                .getSingleResult());
    }

    /** The team's queued or running jobs that train on a dataset. */
    public Uni<List<TrainingJob>> usingDataset(String team, String datasetId) {
        return find("#" + TrainingJob.USING_DATASET, Parameters.with("team", team).and("datasetId", datasetId)
                .and("open", JobStatus.OPEN)).list();
    }

    /** Jobs in the given statuses that run on a backend. */
    public Uni<List<TrainingJob>> onBackend(String backend, Collection<JobStatus> statuses) {
        return find("#" + TrainingJob.OPEN_ON_BACKEND, Parameters.with("statuses", statuses).and("backend", backend)).list();
    }
}
