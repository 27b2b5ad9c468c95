package dev.mlinfra.datasets.service;

import dev.mlinfra.datasets.DatasetUse;
import dev.mlinfra.datasets.client.TrainingJobs;
import dev.mlinfra.datasets.repository.DatasetUseRepository;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Whether queued or running training jobs use a dataset, which keeps it from being deleted.
 * training-service, which owns the jobs, is asked; when it cannot answer (2 s, its circuit
 * breaker), its job events ({@code mlinfra.training}) decide: a job is open from
 * {@code training.job.queued} until it completes, fails or is cancelled. The events lag the jobs
 * by the time they take (a job created, or cancelled, a moment ago), so they are the fallback, not
 * the answer. training-service answers once the creations of jobs on the dataset that are under way
 * are committed, and the deletion asks only after it has hidden the dataset from new jobs, so a job
 * and the deletion of its dataset never both succeed. Should the deletion have to go by the events,
 * a job created a moment before fails with the reason that its dataset is gone, and a trainer
 * refuses a file that is not the one its job was created for (its checksum).
 */
@ApplicationScoped
public class DatasetReferences {

    /** Job statuses after which a job never reads its dataset again. */
    static final Set<String> CLOSED = Set.of("completed", "failed", "cancelled");

    private final DatasetUseRepository uses;
    private final TrainingJobs training;

    public DatasetReferences(DatasetUseRepository uses, TrainingJobs training) {
        this.uses = uses;
        this.training = training;
    }

    /**
     * A short description of what uses the dataset (e.g. "training job train-100042 (running)"), or
     * null: training-service's answer, or when it cannot say, the jobs known from its events.
     */
    public Uni<String> inUseBy(String team, String datasetId) {
        return training.using(datasetId).flatMap(jobs -> jobs != null
                ? Uni.createFrom().item(describe(jobs.stream().map(j -> j.jobId() + " (" + j.status() + ")").toList()))
                : uses.openUses(team, datasetId)
                        .map(open -> describe(open.stream().map(u -> u.jobId + " (" + u.jobStatus + ")").toList())));
    }

    /** The ids of the open jobs that train on a dataset. */
    public Uni<List<String>> openJobs(String team, String datasetId) {
        return uses.openUses(team, datasetId).map(open -> open.stream().map(u -> u.jobId).toList());
    }

    /** "training job train-1 (queued)" for one, the first three and a count for more; null for none. */
    static String describe(List<String> open) {
        if (open.isEmpty()) {
            return null;
        }
        String first = open.stream().limit(3).collect(Collectors.joining(", "));
        return (open.size() == 1 ? "training job " : "training jobs ") + first
                + (open.size() > 3 ? " and " + (open.size() - 3) + " more" : "");
    }

    /** Records a job's status; its first event creates the use, a terminal one closes it. Inside the consumer's transaction. */
    public Uni<Void> jobChanged(String team, String jobId, String datasetId, String status) {
        return uses.findById(jobId).flatMap(use -> {
            DatasetUse u = use;
            if (u == null) {
                u = new DatasetUse();
                u.jobId = jobId;
                u.team = team;
                u.datasetId = datasetId;
            }
            u.jobStatus = status;
            u.open = !CLOSED.contains(status);
            u.updatedAt = Instant.now();
            return use == null ? uses.persist(u).replaceWithVoid() : Uni.createFrom().voidItem();
        });
    }
}
