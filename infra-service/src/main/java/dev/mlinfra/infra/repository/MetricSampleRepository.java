package dev.mlinfra.infra.repository;

import dev.mlinfra.infra.probe.HostUsage;
import dev.mlinfra.infra.service.Metric;
import dev.mlinfra.infra.service.MetricsHistory;
import dev.mlinfra.infra.service.Period;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The sampled history in the service's database: raw samples, and rollups per period's interval that a
 * trigger keeps (V3__metrics_history.sql). Time series rows have no identity worth an entity: this
 * repository speaks set-based SQL through the reactive client.
 */
@ApplicationScoped
public class MetricSampleRepository implements MetricsHistory {

    private final Pool client;

    public MetricSampleRepository(Pool client) {
        this.client = client;
    }

    /** Stores readings in one statement (their rollups with them): all or nothing. */
    public Uni<Void> record(List<HostUsage.Reading> readings) {
        List<String> components = new ArrayList<>();
        List<String> metrics = new ArrayList<>();
        List<OffsetDateTime> times = new ArrayList<>();
        List<Double> values = new ArrayList<>();
        for (HostUsage.Reading reading : readings) {
            OffsetDateTime at = reading.at().atOffset(ZoneOffset.UTC);
            reading.figures().forEach((component, figures) -> figures.forEach((metric, value) -> {
                components.add(component);
                metrics.add(metric.value);
                times.add(at);
                values.add(value);
            }));
        }
        if (values.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return client.preparedQuery("""
                INSERT INTO metric_sample (component, metric, sampled_at, value)
                SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::float8[])""")
                .execute(Tuple.of(components.toArray(String[]::new), metrics.toArray(String[]::new),
                        times.toArray(OffsetDateTime[]::new), values.toArray(Double[]::new)))
                .replaceWithVoid();
    }

    /** Makes the rollup resolutions those of the periods (a period table that changed changes them). */
    public Uni<Void> synchroniseResolutions() {
        Integer[] seconds = Arrays.stream(Period.values()).map(p -> (int) p.interval.toSeconds()).toArray(Integer[]::new);
        Long[] retention = Arrays.stream(Period.values()).map(p -> p.retention().toSeconds()).toArray(Long[]::new);
        return client.withTransaction(tx -> tx.preparedQuery("""
                INSERT INTO metric_resolution (seconds, retention)
                SELECT s, make_interval(secs => r) FROM unnest($1::int[], $2::bigint[]) AS x(s, r)
                ON CONFLICT (seconds) DO UPDATE SET retention = excluded.retention""")
                .execute(Tuple.of(seconds, retention))
                .flatMap(r -> tx.preparedQuery("DELETE FROM metric_resolution WHERE seconds <> ALL($1::int[])")
                        .execute(Tuple.of((Object) seconds)))
                .flatMap(r -> tx.preparedQuery("DELETE FROM metric_rollup WHERE resolution <> ALL($1::int[])")
                        .execute(Tuple.of((Object) seconds))))
                .replaceWithVoid();
    }

    /** Deletes raw samples older than {@code rawRetention} and rollups past their resolution's retention; returns the rows deleted. */
    public Uni<Integer> deleteExpired(Duration rawRetention) {
        return client.preparedQuery("DELETE FROM metric_sample WHERE sampled_at < now() - make_interval(secs => $1)")
                .execute(Tuple.of(rawRetention.toSeconds()))
                .flatMap(raw -> client.query("""
                        DELETE FROM metric_rollup r USING metric_resolution res
                         WHERE r.resolution = res.seconds AND r.bucket < now() - res.retention""").execute()
                        .map(rollups -> raw.rowCount() + rollups.rowCount()));
    }

    @Override
    public Uni<Map<Metric, List<Point>>> series(String component, Set<Metric> metrics, Period period, Instant now) {
        long step = period.interval.toSeconds();
        long from = Math.floorDiv(now.minus(period.length).getEpochSecond(), step) * step;
        String[] names = metrics.stream().map(m -> m.value).toArray(String[]::new);
        return client.preparedQuery("""
                SELECT metric, bucket, total / samples AS value FROM metric_rollup
                 WHERE component = $1 AND metric = ANY($2::text[]) AND resolution = $3 AND bucket >= $4
                 ORDER BY metric, bucket""")
                .execute(Tuple.of(component, names, (int) step, Instant.ofEpochSecond(from).atOffset(ZoneOffset.UTC)))
                .map(rows -> {
                    Map<Metric, List<Point>> series = new EnumMap<>(Metric.class);
                    metrics.forEach(m -> series.put(m, new ArrayList<>()));
                    for (Row row : rows) {
                        series.get(Metric.of(row.getString("metric")))
                                .add(new Point(row.getOffsetDateTime("bucket").toInstant(), row.getDouble("value")));
                    }
                    return series;
                });
    }
}
