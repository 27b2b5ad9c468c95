package dev.mlinfra.gateway.ratelimit;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Windows counted in PostgreSQL, so every gateway replica draws on one budget. One upsert per
 * request; the row lock of the upsert makes the count exact across replicas. It stays on the
 * reactive SQL client rather than Hibernate: the whole decision is one atomic statement on the
 * hot path of every request, with no entity to load or track.
 */
public class PostgresRateLimitStore implements RateLimitStore {

    private static final String ACQUIRE = """
            INSERT INTO rate_limit_window AS w (bucket, window_start, count)
            VALUES ($1, to_timestamp($2 / 1000.0), 1)
            ON CONFLICT (bucket) DO UPDATE SET
              window_start = CASE WHEN w.window_start + make_interval(secs => $3 / 1000.0) <= to_timestamp($2 / 1000.0)
                                  THEN to_timestamp($2 / 1000.0) ELSE w.window_start END,
              count        = CASE WHEN w.window_start + make_interval(secs => $3 / 1000.0) <= to_timestamp($2 / 1000.0)
                                  THEN 1 ELSE w.count + 1 END
            RETURNING count, (extract(epoch FROM window_start) * 1000)::bigint AS start_millis
            """;

    private final Pool pool;

    public PostgresRateLimitStore(Pool pool) {
        this.pool = pool;
    }

    @Override
    public Uni<RateDecision> acquire(String bucket, RatePolicy policy, long nowEpochMillis) {
        return pool.preparedQuery(ACQUIRE)
                .execute(Tuple.of(bucket, nowEpochMillis, policy.window().toMillis()))
                .map(rows -> {
                    Row row = rows.iterator().next();
                    return RateDecision.of(policy, row.getInteger("count"), row.getLong("start_millis"));
                });
    }
}
