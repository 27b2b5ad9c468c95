package dev.mlinfra.gateway.repository;

import dev.mlinfra.commons.api.PageParams;
import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.gateway.ApiKey;
import io.quarkus.hibernate.reactive.panache.PanacheRepositoryBase;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.panache.common.Parameters;
import io.quarkus.panache.common.Sort;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.LockModeType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * API keys in the gateway's database. Look-ups run on the request path of every proxied call
 * (below JAX-RS, on the request's Vert.x context), so every method opens its own session when the
 * caller has none.
 */
@ApplicationScoped
@WithSession
public class ApiKeyRepository implements PanacheRepositoryBase<ApiKey, String> {

    public Uni<ApiKey> findKey(String keyId) {
        return findById(keyId);
    }

    /** The key, its row locked until the caller's transaction ends (two administrators' changes do not mix). */
    public Uni<ApiKey> findKeyForUpdate(String keyId) {
        return findById(keyId, LockModeType.PESSIMISTIC_WRITE);
    }

    /** Keys matching the filters (null: any), newest first; the key id breaks ties. */
    public Uni<List<ApiKey>> list(String team, Boolean active, PageParams page) {
        Filter f = filter(team, active);
        return find(f.query, Sort.descending("createdAt", "keyId"), f.parameters)
                .range(page.offset(), page.offset() + page.limit() - 1).list();
    }

    public Uni<Long> count(String team, Boolean active) {
        Filter f = filter(team, active);
        return count(f.query, f.parameters);
    }

    private record Filter(String query, Parameters parameters) {
    }

    private static Filter filter(String team, Boolean active) {
        List<String> conditions = new ArrayList<>();
        Parameters parameters = new Parameters();
        if (team != null) {
            conditions.add("team = :team");
            parameters.and("team", team);
        }
        if (active != null) {
            conditions.add(active ? "revokedAt is null" : "revokedAt is not null");
        }
        return new Filter(conditions.isEmpty() ? "1 = 1" : String.join(" and ", conditions), parameters);
    }

    /** Marks the key revoked; false when it does not exist or was revoked already. */
    public Uni<Boolean> revoke(String keyId, Instant at) {
        return update("revokedAt = ?1 where keyId = ?2 and revokedAt is null", at, keyId).map(n -> n == 1);
    }

    /** Active keys with the admin scope, other than the given one. */
    public Uni<Long> countOtherActiveAdmins(String keyId) {
        // SQL: the column is text[], which HQL's array functions compare as varchar[]
        return getSession().flatMap(s -> s.createNativeQuery(
                "SELECT count(*) FROM api_key WHERE revoked_at IS NULL AND ?1 = ANY(scopes) AND key_id <> ?2", Long.class)
                .setParameter(1, Identity.SCOPE_ADMIN).setParameter(2, keyId).getSingleResult());
    }

    /**
     * Locks the key table against concurrent writers until the caller's transaction ends: two
     * administrators revoking the last two admin keys at once, or two replicas creating the
     * first key, must not both succeed.
     */
    public Uni<Void> lockAgainstWriters() {
        return getSession().flatMap(s -> s.createNativeQuery("LOCK TABLE api_key IN SHARE ROW EXCLUSIVE MODE").executeUpdate())
                .replaceWithVoid();
    }
}
