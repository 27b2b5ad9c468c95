package dev.mlinfra.training.repository;

import dev.mlinfra.training.TrainingCheckpoint;
import io.quarkus.hibernate.reactive.panache.PanacheRepositoryBase;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.panache.common.Sort;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;

/** The checkpoints of jobs. */
@ApplicationScoped
@WithSession
public class CheckpointRepository implements PanacheRepositoryBase<TrainingCheckpoint, TrainingCheckpoint.Key> {

    /** A job's checkpoints, newest first. */
    public Uni<List<TrainingCheckpoint>> ofJob(String jobId) {
        return find("jobId", Sort.descending("step"), jobId).list();
    }

    public Uni<Boolean> exists(String jobId, int step) {
        return count("jobId = ?1 and step = ?2", jobId, step).map(n -> n > 0);
    }
}
