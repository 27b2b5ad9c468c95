package dev.mlinfra.datasets.repository;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.datasets.Dataset;
import dev.mlinfra.datasets.validation.RecordError;
import dev.mlinfra.datasets.validation.ScanResult;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonArray;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Datasets in the service's database, through the reactive SQL client so that a state change
 * and its outbox event share one transaction.
 */
@ApplicationScoped
public class DatasetRepository {

    private static final TypeReference<List<RecordError>> ERRORS = new TypeReference<>() {
    };

    private final Pool pool;
    private final ObjectMapper json;

    public DatasetRepository(Pool pool, ObjectMapper json) {
        this.pool = pool;
        this.json = json;
    }

    public Pool pool() {
        return pool;
    }

    public Uni<Void> insert(SqlClient tx, Dataset d) {
        return tx.preparedQuery("""
                INSERT INTO dataset (team, dataset_id, name, description, source, format, version, status, phase,
                                     created_at, updated_at, upload_id, upload_expires_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12)""")
                .execute(Tuple.tuple().addString(d.team()).addString(d.datasetId()).addString(d.name())
                        .addString(d.description()).addString(d.source()).addString(d.format()).addString(d.version())
                        .addString(d.status()).addString(d.phase()).addOffsetDateTime(utc(d.createdAt()))
                        .addString(d.uploadId()).addOffsetDateTime(utc(d.uploadExpiresAt())))
                .replaceWithVoid();
    }

    /** A dataset of the team, unless it does not exist or is being deleted. */
    public Uni<Dataset> find(String team, String datasetId) {
        return pool.preparedQuery("SELECT * FROM dataset WHERE team = $1 AND dataset_id = $2 AND status <> 'deleting'")
                .execute(Tuple.of(team, datasetId)).map(this::first);
    }

    public Uni<Dataset> findByUpload(String team, String uploadId) {
        return pool.preparedQuery("SELECT * FROM dataset WHERE team = $1 AND upload_id = $2 AND status <> 'deleting'")
                .execute(Tuple.of(team, uploadId)).map(this::first);
    }

    private static final String FILTER = "team = $1 AND status <> 'deleting' AND ($2::text IS NULL OR source = $2) "
            + "AND ($3::text IS NULL OR status = $3)";

    public Uni<List<Dataset>> list(String team, String source, String status, int limit, int offset) {
        return pool.preparedQuery("SELECT * FROM dataset WHERE " + FILTER
                + " ORDER BY created_at DESC, seq DESC LIMIT $4 OFFSET $5")
                .execute(Tuple.of(team, source, status, limit, offset)).map(this::all);
    }

    public Uni<Long> count(String team, String source, String status) {
        return pool.preparedQuery("SELECT count(*) FROM dataset WHERE " + FILTER)
                .execute(Tuple.of(team, source, status)).map(rows -> rows.iterator().next().getLong(0));
    }

    /** Takes the upload URL for one use: only a pending, unexpired dataset awaiting its file is claimed. */
    public Uni<Dataset> claimUpload(String team, String uploadId, Instant now) {
        return pool.preparedQuery("""
                UPDATE dataset SET phase = 'receiving', updated_at = $3
                WHERE team = $1 AND upload_id = $2 AND status = 'pending' AND phase = 'awaiting_upload'
                  AND upload_expires_at > $3
                RETURNING *""")
                .execute(Tuple.of(team, uploadId, utc(now))).map(this::first);
    }

    public Uni<Void> markValidating(String team, String datasetId, String objectKey, long size, String checksum, Instant now) {
        return pool.preparedQuery("""
                UPDATE dataset SET phase = 'validating', object_key = $3, size = $4, checksum_sha256 = $5, updated_at = $6
                WHERE team = $1 AND dataset_id = $2""")
                .execute(Tuple.tuple().addString(team).addString(datasetId).addString(objectKey).addLong(size)
                        .addString(checksum).addOffsetDateTime(utc(now)))
                .replaceWithVoid();
    }

    public Uni<Dataset> markReady(SqlClient tx, String team, String datasetId, ScanResult scan, Instant now) {
        return tx.preparedQuery("""
                UPDATE dataset SET status = 'ready', phase = 'done', num_examples = $3, repositories = $4,
                       issue_types = $5, date_from = $6, date_to = $7, updated_at = $8
                WHERE team = $1 AND dataset_id = $2 RETURNING *""")
                .execute(Tuple.tuple().addString(team).addString(datasetId).addLong(scan.records())
                        .addArrayOfString(scan.repositories().toArray(String[]::new))
                        .addArrayOfString(scan.issueTypes().toArray(String[]::new))
                        .addLocalDate(scan.earliest()).addLocalDate(scan.latest()).addOffsetDateTime(utc(now)))
                .map(this::first);
    }

    /** Fails a dataset; its object is gone (or never was), so the key is cleared. */
    public Uni<Dataset> markFailed(SqlClient tx, String team, String datasetId, String reason, long errorCount,
            List<RecordError> errors, Long numRecords, Instant now) {
        return tx.preparedQuery("""
                UPDATE dataset SET status = 'failed', phase = 'done', failure_reason = $3, error_count = $4, errors = $5,
                       num_examples = $6, object_key = NULL, updated_at = $7
                WHERE team = $1 AND dataset_id = $2 RETURNING *""")
                .execute(Tuple.tuple().addString(team).addString(datasetId).addString(reason).addLong(errorCount)
                        .addValue(new JsonArray(toJson(errors))).addLong(numRecords).addOffsetDateTime(utc(now)))
                .map(this::first);
    }

    /** Hides a dataset for deletion; refused (null) while its file is being received or validated. */
    public Uni<Dataset> markDeleting(String team, String datasetId, Instant now) {
        return pool.preparedQuery("""
                UPDATE dataset SET status = 'deleting', updated_at = $3
                WHERE team = $1 AND dataset_id = $2 AND status <> 'deleting' AND phase NOT IN ('receiving', 'validating')
                RETURNING *""")
                .execute(Tuple.of(team, datasetId, utc(now))).map(this::first);
    }

    public Uni<Void> delete(SqlClient tx, String team, String datasetId) {
        return tx.preparedQuery("DELETE FROM dataset WHERE team = $1 AND dataset_id = $2")
                .execute(Tuple.of(team, datasetId)).replaceWithVoid();
    }

    /** Pending datasets whose upload never came, or stalled (the service stopped mid-upload), locked for this sweep. */
    public Uni<List<Dataset>> lockAbandoned(SqlClient tx, Instant now, Instant stalledBefore, int max) {
        return tx.preparedQuery("""
                SELECT * FROM dataset
                WHERE status = 'pending' AND ((phase = 'awaiting_upload' AND upload_expires_at <= $1)
                   OR (phase IN ('receiving', 'validating') AND updated_at <= $2))
                ORDER BY updated_at LIMIT $3 FOR UPDATE SKIP LOCKED""")
                .execute(Tuple.of(utc(now), utc(stalledBefore), max)).map(this::all);
    }

    /** Deletions that were interrupted half-way. */
    public Uni<List<Dataset>> findStaleDeletions(Instant before, int max) {
        return pool.preparedQuery("SELECT * FROM dataset WHERE status = 'deleting' AND updated_at <= $1 ORDER BY updated_at LIMIT $2")
                .execute(Tuple.of(utc(before), max)).map(this::all);
    }

    private Dataset first(RowSet<Row> rows) {
        var it = rows.iterator();
        return it.hasNext() ? toDataset(it.next()) : null;
    }

    private List<Dataset> all(RowSet<Row> rows) {
        List<Dataset> out = new ArrayList<>();
        rows.forEach(r -> out.add(toDataset(r)));
        return out;
    }

    private Dataset toDataset(Row r) {
        return new Dataset(r.getString("team"), r.getString("dataset_id"), r.getString("name"),
                r.getString("description"), r.getString("source"), r.getString("format"), r.getString("version"),
                r.getString("status"), r.getString("phase"), instant(r.getOffsetDateTime("created_at")),
                instant(r.getOffsetDateTime("updated_at")), r.getString("upload_id"),
                instant(r.getOffsetDateTime("upload_expires_at")), r.getString("object_key"), r.getLong("size"),
                r.getLong("num_examples"), r.getString("checksum_sha256"), strings(r.getArrayOfStrings("repositories")),
                strings(r.getArrayOfStrings("issue_types")), r.getLocalDate("date_from"), r.getLocalDate("date_to"),
                r.getString("failure_reason"), r.getLong("error_count"), errors(r.getValue("errors")));
    }

    private List<RecordError> errors(Object value) {
        if (value == null) {
            return List.of();
        }
        return json.convertValue(((JsonArray) value).getList(), ERRORS);
    }

    private List<Object> toJson(List<RecordError> errors) {
        List<Object> out = new ArrayList<>();
        for (RecordError e : errors) {
            var m = new java.util.LinkedHashMap<String, Object>();
            m.put("record", e.record());
            if (e.field() != null) {
                m.put("field", e.field());
            }
            m.put("message", e.message());
            out.add(m);
        }
        return out;
    }

    private static List<String> strings(String[] values) {
        return values == null ? null : Arrays.asList(values);
    }

    private static Instant instant(OffsetDateTime t) {
        return t == null ? null : t.toInstant();
    }

    private static OffsetDateTime utc(Instant i) {
        return i == null ? null : i.atOffset(ZoneOffset.UTC);
    }
}
