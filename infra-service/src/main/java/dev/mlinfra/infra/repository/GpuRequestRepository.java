package dev.mlinfra.infra.repository;

import dev.mlinfra.infra.GpuRequest;
import dev.mlinfra.infra.GpuRequest.Status;
import io.quarkus.hibernate.reactive.panache.PanacheRepositoryBase;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.panache.common.Parameters;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Requests for GPU capacity in the service's database. */
@ApplicationScoped
@WithSession
public class GpuRequestRepository implements PanacheRepositoryBase<GpuRequest, Long> {

    /** Where a known request is queued or held: its pool, null when it has none (denied, or a tombstone). */
    public record Located(String pool) {
    }

    /** What a pool holds: GPUs granted, and requests waiting. */
    public record PoolUsage(String pool, long allocated, long waiting) {
    }

    public Uni<GpuRequest> byRequester(String requester, String requestId) {
        return find("requester = ?1 and requestId = ?2", requester, requestId).firstResult();
    }

    /**
     * The pool of a request without loading it (so that the entity is read only once its pool is
     * locked); null when the request is unknown.
     */
    public Uni<Located> locate(String requester, String requestId) {
        return getSession().flatMap(session -> session.createNamedQuery(GpuRequest.POOL_OF, String.class)
                .setParameter("requester", requester).setParameter("requestId", requestId).getResultList())
                .map(pools -> pools.isEmpty() ? null : new Located(pools.getFirst()));
    }

    /** A request of the team by its id (of the given requester, unless null; the latest if several requesters used the id). */
    public Uni<GpuRequest> ofTeam(String team, String requestId, String requester) {
        return find("#" + GpuRequest.OF_TEAM, Parameters.with("team", team).and("requestId", requestId)
                .and("requester", requester)).firstResult();
    }

    /** The waiting requests of a pool in FIFO order. */
    public Uni<List<GpuRequest>> queue(String pool) {
        return find("#" + GpuRequest.QUEUE, Parameters.with("pool", pool).and("waiting", Status.WAITING)).list();
    }

    /** 1-based place of a waiting request among its pool's waiting requests. */
    public Uni<Long> position(GpuRequest waiting) {
        return count("#" + GpuRequest.POSITION, Parameters.with("pool", waiting.pool).and("waiting", Status.WAITING)
                .and("seq", waiting.seq));
    }

    /** GPUs the pool has granted and not got back. */
    public Uni<Integer> allocated(String pool) {
        return getSession().flatMap(session -> session.createNamedQuery(GpuRequest.ALLOCATED, Long.class)
                .setParameter("pool", pool).setParameter("granted", Status.GRANTED).getSingleResult())
                .map(Long::intValue);
    }

    /** GPUs each team holds, across pools (teams holding none are absent). */
    public Uni<Map<String, Integer>> heldByTeam() {
        return getSession().flatMap(session -> session.createNamedQuery(GpuRequest.HELD_BY_TEAM, Object[].class)
                .setParameter("granted", Status.GRANTED).getResultList())
                .map(rows -> {
                    Map<String, Integer> held = new HashMap<>();
                    for (Object[] row : rows) {
                        held.put((String) row[0], ((Number) row[1]).intValue());
                    }
                    return held;
                });
    }

    /** What every pool that has granted or queued anything holds, by pool name. */
    public Uni<Map<String, PoolUsage>> usage() {
        return getSession().flatMap(session -> session.createNamedQuery(GpuRequest.USAGE, Object[].class)
                .setParameter("statuses", List.of(Status.WAITING, Status.GRANTED)).getResultList())
                .map(rows -> {
                    Map<String, PoolUsage> usage = new HashMap<>();
                    for (Object[] row : rows) {
                        String pool = (String) row[0];
                        PoolUsage u = usage.getOrDefault(pool, new PoolUsage(pool, 0, 0));
                        usage.put(pool, row[1] == Status.GRANTED
                                ? new PoolUsage(pool, ((Number) row[3]).longValue(), u.waiting())
                                : new PoolUsage(pool, u.allocated(), ((Number) row[2]).longValue()));
                    }
                    return usage;
                });
    }
}
