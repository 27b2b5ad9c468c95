package dev.mlinfra.training.repository;

import dev.mlinfra.commons.api.PageParams;
import dev.mlinfra.training.TrainingJobEvent;
import io.quarkus.hibernate.reactive.panache.PanacheRepositoryBase;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.panache.common.Sort;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;

/** The events of jobs. */
@ApplicationScoped
@WithSession
public class JobEventRepository implements PanacheRepositoryBase<TrainingJobEvent, Long> {

    /** A page of a job's events, newest first. */
    public Uni<List<TrainingJobEvent>> page(String jobId, PageParams page) {
        return find("jobId", Sort.descending("id"), jobId).range(page.offset(), page.offset() + page.limit() - 1).list();
    }

    public Uni<Long> count(String jobId) {
        return count("jobId", jobId);
    }

    /** A job's events after {@code afterId}, oldest first, at most {@code max}: what a stream has not sent yet. */
    public Uni<List<TrainingJobEvent>> after(String jobId, long afterId, int max) {
        return find("jobId = ?1 and id > ?2", Sort.ascending("id"), jobId, afterId).range(0, max - 1).list();
    }

    /** Whether the trainer reported a milestone ({@code completed}, {@code failed}, ...) for the job, and its data. */
    public Uni<TrainingJobEvent> lastOfType(String jobId, String type) {
        return find("jobId = ?1 and type = ?2", Sort.descending("id"), jobId, type).firstResult();
    }
}
