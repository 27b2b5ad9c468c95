package dev.mlinfra.datasets.repository;

import dev.mlinfra.commons.api.PageParams;
import dev.mlinfra.commons.persistence.Filters;
import dev.mlinfra.datasets.Dataset;
import dev.mlinfra.datasets.Dataset.Phase;
import dev.mlinfra.datasets.Dataset.Status;
import io.quarkus.hibernate.reactive.panache.PanacheRepositoryBase;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.panache.common.Parameters;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.LockModeType;
import org.hibernate.LockMode;
import java.time.Instant;
import java.util.Collection;
import java.util.List;

/** Datasets in the service's database. Deleting datasets are invisible to every finder users reach. */
@ApplicationScoped
@WithSession
public class DatasetRepository implements PanacheRepositoryBase<Dataset, Long> {

    /** A dataset of the team, unless it does not exist or is being deleted. */
    public Uni<Dataset> findVisible(String team, String datasetId) {
        return find("team = ?1 and datasetId = ?2 and status <> ?3", team, datasetId, Status.DELETING).firstResult();
    }

    /** The same, locked for the caller's transaction (for a state change that must not race another). */
    public Uni<Dataset> lockVisible(String team, String datasetId) {
        return find("team = ?1 and datasetId = ?2 and status <> ?3", team, datasetId, Status.DELETING)
                .withLock(LockModeType.PESSIMISTIC_WRITE).firstResult();
    }

    /** The dataset an upload URL belongs to, locked for the caller's transaction. */
    public Uni<Dataset> lockByUpload(String team, String uploadId) {
        return find("team = ?1 and uploadId = ?2 and status <> ?3", team, uploadId, Status.DELETING)
                .withLock(LockModeType.PESSIMISTIC_WRITE).firstResult();
    }

    public Uni<Boolean> nameTaken(String team, String datasetId) {
        return count("team = ?1 and datasetId = ?2", team, datasetId).map(n -> n > 0);
    }

    /** A page of the team's datasets with the given statuses (and source, unless null), newest first. */
    public Uni<List<Dataset>> list(String team, Collection<Status> statuses, String source, PageParams page) {
        Filters f = filters(team, statuses, source);
        return find(f.query() + " order by createdAt desc, seq desc", f.parameters())
                .range(page.offset(), page.offset() + page.limit() - 1).list();
    }

    public Uni<Long> count(String team, Collection<Status> statuses, String source) {
        Filters f = filters(team, statuses, source);
        return count(f.query(), f.parameters());
    }

    private static Filters filters(String team, Collection<Status> statuses, String source) {
        return Filters.where("team", team).andIn("status", statuses).and("source", source);
    }

    /** Marks the receiving uploads among {@code uploadIds} as alive at {@code now}. */
    public Uni<Integer> heartbeat(Collection<String> uploadIds, Instant now) {
        return update("#" + Dataset.HEARTBEAT, Parameters.with("uploadIds", uploadIds).and("now", now)
                .and("receiving", Phase.RECEIVING));
    }

    /**
     * Pending datasets whose upload URL expired unused, or whose upload stalled (its receiver's
     * heartbeat stopped before {@code stalledBefore}: the service that received it is gone),
     * locked for the caller's transaction; rows another replica holds are skipped.
     */
    public Uni<List<Dataset>> lockAbandoned(Instant now, Instant stalledBefore, int max) {
        // FOR UPDATE SKIP LOCKED: replicas share the work instead of waiting for each other.
        return getSession().flatMap(session -> session.createNamedQuery(Dataset.ABANDONED, Dataset.class)
                .setParameter("pending", Status.PENDING).setParameter("awaiting", Phase.AWAITING_UPLOAD)
                .setParameter("receiving", Phase.RECEIVING).setParameter("now", now)
                .setParameter("stalledBefore", stalledBefore)
                .setLockMode(LockMode.UPGRADE_SKIPLOCKED).setMaxResults(max).getResultList());
    }

    /** Deletions that were interrupted half-way (the service stopped between removing the objects and the row). */
    public Uni<List<Dataset>> staleDeletions(Instant before, int max) {
        return find("#" + Dataset.STALE_DELETIONS, Parameters.with("deleting", Status.DELETING).and("before", before))
                .range(0, max - 1).list();
    }
}
