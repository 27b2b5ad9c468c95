package dev.mlinfra.infra.repository;

import dev.mlinfra.infra.GpuPool;
import io.quarkus.hibernate.reactive.panache.PanacheRepositoryBase;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.LockModeType;
import java.time.Instant;
import java.util.Collection;
import java.util.List;

/** Pools of capacity in the service's database. */
@ApplicationScoped
@WithSession
public class GpuPoolRepository implements PanacheRepositoryBase<GpuPool, String> {

    /** The pool, locked for the caller's transaction; null when there is no such row. */
    public Uni<GpuPool> lock(String name) {
        return findById(name, LockModeType.PESSIMISTIC_WRITE);
    }

    /** Every pool, locked for the caller's transaction in name order (so two lockers cannot deadlock). */
    public Uni<List<GpuPool>> lockAll() {
        return find("order by name").withLock(LockModeType.PESSIMISTIC_WRITE).list();
    }

    /** The pools in the configuration, by name. */
    public Uni<List<GpuPool>> configured() {
        return find("configured = true order by name").list();
    }

    /** Creates or updates a configured pool; one statement, so replicas starting together do not collide. */
    public Uni<Integer> synchronise(String name, GpuPool.Kind kind, int size) {
        return getSession().flatMap(session -> session.createNativeQuery("""
                INSERT INTO gpu_pool (name, kind, size, configured, updated_at) VALUES (?1, ?2, ?3, true, now())
                ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, size = excluded.size, configured = true,
                    updated_at = excluded.updated_at""")
                .setParameter(1, name)
                .setParameter(2, kind.value())
                .setParameter(3, size)
                .executeUpdate());
    }

    /** Marks the pools that left the configuration; returns how many did. */
    public Uni<Integer> retireAllBut(Collection<String> configured, Instant now) {
        return update("configured = false, updatedAt = ?1 where configured = true and name not in ?2", now, configured);
    }
}
