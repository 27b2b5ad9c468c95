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
 * Whether queued or running training jobs use a dataset, which keeps it from being deleted. It
 * follows training-service's job events ({@code mlinfra.training}): a job is open from
 * {@code training.job.queued} until it completes, fails or is cancelled. Learned from events, it
 * lags a job's creation by the time its event takes (about a second), so where the events name no
 * job training-service is asked. A deletion that still slips between a job's check of its dataset and
 * its commit fails the job with the reason that its dataset is gone, and a trainer refuses a file that
 * is not the one its job was created for (its checksum).
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
     * null. Jobs known from their events first; when there are none, training-service itself is asked,
     * for a job created a moment ago whose event is still on its way.
     */
    public Uni<String> inUseBy(String team, String datasetId) {
        return uses.openUses(team, datasetId).flatMap(open -> {
            if (!open.isEmpty()) {
                return Uni.createFrom().item(describe(open.stream().map(u -> u.jobId + " (" + u.jobStatus + ")").toList()));
            }
            return training.using(datasetId).map(jobs -> jobs == null ? null
                    : describe(jobs.stream().map(j -> j.jobId() + " (" + j.status() + ")").toList()));
        });
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
