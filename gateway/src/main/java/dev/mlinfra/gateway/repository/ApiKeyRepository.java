package dev.mlinfra.gateway.repository;

import dev.mlinfra.gateway.ApiKey;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.core.buffer.Buffer;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * API keys in the gateway's database. Plain reactive SQL: key look-ups run on the request path
 * of every proxied call, below JAX-RS, where no ORM session exists.
 */
@ApplicationScoped
public class ApiKeyRepository {

    private static final String COLUMNS = "key_id, key_hash, team, name, scopes, created_at, created_by, revoked_at";

    private final Pool pool;

    public ApiKeyRepository(Pool pool) {
        this.pool = pool;
    }

    public Uni<ApiKey> findById(String keyId) {
        return pool.preparedQuery("SELECT " + COLUMNS + " FROM api_key WHERE key_id = $1")
                .execute(Tuple.of(keyId))
                .map(rows -> rows.iterator().hasNext() ? toKey(rows.iterator().next()) : null);
    }

    public Uni<Void> insert(SqlClient client, ApiKey key) {
        return client.preparedQuery("INSERT INTO api_key (" + COLUMNS + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .execute(Tuple.tuple()
                        .addString(key.keyId())
                        .addBuffer(Buffer.buffer(key.keyHash()))
                        .addString(key.team())
                        .addString(key.name())
                        .addArrayOfString(key.scopes().stream().sorted().toArray(String[]::new))
                        .addOffsetDateTime(utc(key.createdAt()))
                        .addString(key.createdBy())
                        .addOffsetDateTime(utc(key.revokedAt())))
                .replaceWithVoid();
    }

    public Uni<Void> insert(ApiKey key) {
        return insert(pool, key);
    }

    /** Keys matching the filters, newest first (key id breaks ties), and their total. */
    public Uni<List<ApiKey>> list(String team, Boolean active, int limit, int offset) {
        return pool.preparedQuery("SELECT " + COLUMNS + " FROM api_key WHERE " + FILTER
                + " ORDER BY created_at DESC, key_id DESC LIMIT $3 OFFSET $4")
                .execute(Tuple.of(team, active, limit, offset))
                .map(rows -> {
                    List<ApiKey> out = new ArrayList<>();
                    rows.forEach(r -> out.add(toKey(r)));
                    return out;
                });
    }

    public Uni<Long> count(String team, Boolean active) {
        return pool.preparedQuery("SELECT count(*) FROM api_key WHERE " + FILTER)
                .execute(Tuple.of(team, active))
                .map(rows -> rows.iterator().next().getLong(0));
    }

    private static final String FILTER = "($1::text IS NULL OR team = $1) AND ($2::boolean IS NULL OR (revoked_at IS NULL) = $2)";

    /** Marks the key revoked; false when it does not exist or was revoked already. */
    public Uni<Boolean> revoke(SqlClient client, String keyId, Instant at) {
        return client.preparedQuery("UPDATE api_key SET revoked_at = $2 WHERE key_id = $1 AND revoked_at IS NULL")
                .execute(Tuple.of(keyId, utc(at)))
                .map(rows -> rows.rowCount() == 1);
    }

    /** Active keys with the admin scope, other than the given one. */
    public Uni<Long> countOtherActiveAdmins(SqlClient client, String keyId) {
        return client.preparedQuery("SELECT count(*) FROM api_key WHERE revoked_at IS NULL AND 'admin' = ANY(scopes) AND key_id <> $1")
                .execute(Tuple.of(keyId))
                .map(rows -> rows.iterator().next().getLong(0));
    }

    public Uni<Long> countAll(SqlClient client) {
        return client.query("SELECT count(*) FROM api_key").execute().map(rows -> rows.iterator().next().getLong(0));
    }

    private static OffsetDateTime utc(Instant instant) {
        return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
    }

    private static ApiKey toKey(Row row) {
        OffsetDateTime revoked = row.getOffsetDateTime("revoked_at");
        String createdBy = row.getString("created_by");
        return new ApiKey(row.getString("key_id"), row.getBuffer("key_hash").getBytes(), row.getString("team"),
                row.getString("name"), Set.of(row.getArrayOfStrings("scopes")),
                row.getOffsetDateTime("created_at").toInstant(), createdBy,
                revoked == null ? null : revoked.toInstant());
    }
}
