package dev.mlinfra.datasets.service;

import dev.mlinfra.commons.api.Page;
import dev.mlinfra.commons.api.PageParams;
import dev.mlinfra.commons.error.ApiException;
import dev.mlinfra.commons.error.ErrorCode;
import dev.mlinfra.commons.storage.ObjectStore;
import dev.mlinfra.datasets.Dataset;
import dev.mlinfra.datasets.config.DatasetConfig;
import dev.mlinfra.datasets.messaging.DatasetEvents;
import dev.mlinfra.datasets.repository.DatasetRepository;
import dev.mlinfra.datasets.validation.DatasetScanner;
import dev.mlinfra.datasets.validation.RecordError;
import dev.mlinfra.datasets.validation.ScanResult;
import dev.mlinfra.datasets.validation.StreamingScan;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.vertx.pgclient.PgException;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * The life of a dataset: created {@code pending} with a one-use upload URL; its file streamed
 * into the object store and validated record by record in the same pass; {@code ready} with statistics or
 * {@code failed} with reasons (and no object left behind); deleted with its objects.
 */
@ApplicationScoped
public class DatasetService {

    private static final Logger LOG = Logger.getLogger(DatasetService.class);
    private static final Pattern SAFE_NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    private static final int MAX_DESCRIPTION = 2000;
    private static final Duration STORE_TIMEOUT = Duration.ofMinutes(5);

    /** The fields of an upload request, as received. */
    public record NewDataset(String name, String description, String source, String format, String version) {
    }

    private final DatasetRepository repository;
    private final DatasetEvents events;
    private final ObjectStore store;
    private final DatasetReferences references;
    private final DatasetConfig config;
    private final DatasetScanner scanner;

    public DatasetService(DatasetRepository repository, DatasetEvents events, ObjectStore store,
            DatasetReferences references, DatasetConfig config) {
        this.repository = repository;
        this.events = events;
        this.store = store;
        this.references = references;
        this.config = config;
        this.scanner = new DatasetScanner(config.maxStringLength(), config.reportedErrors());
    }

    public Uni<Dataset> create(String team, NewDataset request) {
        if (request == null) {
            throw ApiException.badRequest("Request body must be a JSON object with name, description, source, format and version");
        }
        String name = safeName("name", request.name());
        String version = safeName("version", request.version());
        String source = oneOf("source", request.source(), Dataset.SOURCES);
        String format = oneOf("format", request.format(), Dataset.FORMATS);
        String description = request.description() == null ? "" : request.description();
        if (description.length() > MAX_DESCRIPTION) {
            throw ApiException.badRequest("Invalid field 'description': at most " + MAX_DESCRIPTION + " characters");
        }
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        Dataset dataset = new Dataset(team, name, name, description, source, format, version, Dataset.PENDING,
                Dataset.AWAITING_UPLOAD, now, now, "upl-" + UUID.randomUUID().toString().replace("-", ""),
                now.plus(config.uploadExpiry()), null, null, null, null, null, null, null, null, null, null, List.of());
        return repository.pool().withTransaction(tx -> repository.insert(tx, dataset))
                .onFailure(e -> e instanceof PgException pg && "23505".equals(pg.getSqlState()))
                .transform(e -> ApiException.conflict("A dataset named '" + name + "' already exists in team '" + team
                        + "'; dataset names are unique per team, so upload a new version under a new name (e.g. '"
                        + name + "-v2')"))
                .map(ignored -> {
                    LOG.infof("Dataset %s/%s created (%s, %s), waiting for its file until %s", team, name, source, format,
                            dataset.uploadExpiresAt());
                    return dataset;
                });
    }

    public Uni<Dataset> get(String team, String datasetId) {
        return repository.find(team, datasetId).map(d -> {
            if (d == null) {
                throw ApiException.notFound("Dataset '" + datasetId + "' not found");
            }
            return d;
        });
    }

    public Uni<Page<Dataset>> list(String team, String source, String status, PageParams page) {
        String s = source == null ? null : oneOf("source", source, Dataset.SOURCES, true);
        String st = status == null ? null : oneOf("status", status, Dataset.VISIBLE_STATUSES, true);
        return repository.list(team, s, st, page.limit(), page.offset())
                .flatMap(items -> repository.count(team, s, st).map(total -> Page.of("datasets", items, total, page)));
    }

    /**
     * Receives the file of a dataset: streams it into the object store while validating it,
     * and records the outcome. {@code length} is the request's Content-Length, or -1 for a
     * chunked request; {@code accepted} runs once the upload URL is claimed, before the body is
     * read (it lets the body flow). Blocking: call from a worker thread.
     */
    public Dataset receive(String team, String uploadId, InputStream body, long length, Runnable accepted) {
        Instant now = Instant.now();
        Dataset d = repository.claimUpload(team, uploadId, now).await().atMost(STORE_TIMEOUT);
        if (d == null) {
            throw refusedUpload(team, uploadId, now);
        }
        accepted.run();
        String key = "datasets/" + team + "/" + d.datasetId() + "/" + d.version() + "/data." + d.format();
        MessageDigest sha256 = sha256();
        // One pass over the file: hashed and validated as it streams into the object store.
        StreamingScan scan = new StreamingScan(new DigestInputStream(body, sha256), scanner, d.format(),
                "dataset-scan-" + d.datasetId());
        try {
            store.put(key, scan.source(), length, "json".equals(d.format()) ? "application/json" : "application/x-ndjson");
        } catch (ObjectStore.ObjectStoreException e) {
            scan.close();
            LOG.errorf(e, "Object store refused the file of %s/%s", team, d.datasetId());
            repository.pool().preparedQuery("UPDATE dataset SET phase = 'awaiting_upload' WHERE team = $1 AND dataset_id = $2")
                    .execute(io.vertx.mutiny.sqlclient.Tuple.of(team, d.datasetId())).await().atMost(STORE_TIMEOUT);
            throw new ApiException(ErrorCode.SERVICE_UNAVAILABLE, "Object storage is unavailable; retry the upload");
        } catch (UncheckedIOException e) {
            // The body could not be read to its end (the client went away): nothing was stored.
            scan.close();
            removeQuietly(prefix(d));
            return fail(d, "The upload was interrupted after " + scan.bytes() + " bytes: " + e.getCause().getMessage(),
                    List.of(), 1, null);
        } catch (RuntimeException e) {
            scan.close();
            throw e;
        }
        ScanResult result = scan.finish();
        long size = scan.bytes();
        String checksum = HexFormat.of().formatHex(sha256.digest());
        repository.markValidating(team, d.datasetId(), key, size, checksum, Instant.now()).await().atMost(STORE_TIMEOUT);
        if (size == 0) {
            removeQuietly(prefix(d));
            return fail(d, "The file is empty", List.of(new RecordError(0, null, "the file is empty (0 bytes)")), 1, 0L);
        }
        if (!result.valid()) {
            removeQuietly(prefix(d));
            List<RecordError> errors = result.errorCount() == 0
                    ? List.of(new RecordError(0, null, "the file holds no records"))
                    : result.firstErrors();
            return fail(d, result.summary(), errors, Math.max(1, result.errorCount()), result.records());
        }
        Dataset ready = repository.pool().withTransaction(tx -> repository.markReady(tx, team, d.datasetId(), result, Instant.now())
                .call(r -> events.ready(tx, r, store.uri(key)))).await().atMost(STORE_TIMEOUT);
        LOG.infof("Dataset %s/%s ready: %d records, %d bytes, sha256 %s", team, d.datasetId(), result.records(), size, checksum);
        return ready;
    }

    private Dataset fail(Dataset d, String reason, List<RecordError> errors, long errorCount, Long records) {
        Dataset failed = repository.pool().withTransaction(tx -> repository.markFailed(tx, d.team(), d.datasetId(), reason,
                errorCount, errors, records, Instant.now()).call(f -> events.failed(tx, f))).await().atMost(STORE_TIMEOUT);
        LOG.infof("Dataset %s/%s failed: %s", d.team(), d.datasetId(), reason);
        return failed;
    }

    private ApiException refusedUpload(String team, String uploadId, Instant now) {
        Dataset existing = repository.findByUpload(team, uploadId).await().atMost(STORE_TIMEOUT);
        if (existing == null) {
            return ApiException.notFound("Upload URL not found");
        }
        if (Dataset.AWAITING_UPLOAD.equals(existing.phase()) && !existing.uploadExpiresAt().isAfter(now)) {
            return ApiException.conflict("This upload URL expired at " + existing.uploadExpiresAt().truncatedTo(ChronoUnit.SECONDS)
                    + "; create a new dataset to upload the file");
        }
        if (Dataset.FAILED.equals(existing.status()) && existing.size() == null) {
            return ApiException.conflict("This upload URL can no longer be used: " + existing.failureReason());
        }
        return ApiException.conflict("The file of dataset '" + existing.datasetId()
                + "' was already uploaded; an upload URL works once");
    }

    public Uni<Dataset> delete(String team, String datasetId) {
        return get(team, datasetId)
                .call(d -> references.inUseBy(team, datasetId).invoke(user -> {
                    if (user != null) {
                        throw ApiException.conflict("Dataset '" + datasetId + "' is used by " + user + " and cannot be deleted now");
                    }
                }))
                .flatMap(d -> repository.markDeleting(team, datasetId, Instant.now()))
                .map(d -> {
                    if (d == null) {
                        throw ApiException.conflict("Dataset '" + datasetId + "' is receiving or validating its file; delete it once that is over");
                    }
                    return d;
                })
                .emitOn(Infrastructure.getDefaultWorkerPool())
                .flatMap(this::finishDeletion);
    }

    /** Removes the objects, then the row with its event. Blocking on the object store. */
    Uni<Dataset> finishDeletion(Dataset d) {
        int removed = store.removeAll(prefix(d));
        return repository.pool().withTransaction(tx -> repository.delete(tx, d.team(), d.datasetId())
                .call(() -> events.deleted(tx, d)))
                .invoke(() -> LOG.infof("Dataset %s/%s deleted with %d stored objects", d.team(), d.datasetId(), removed))
                .replaceWith(d);
    }

    /** Fails uploads that never came or stalled, and finishes interrupted deletions. Blocking. */
    public void sweep() {
        Instant now = Instant.now();
        List<Dataset> abandoned = repository.pool().withTransaction(tx -> repository
                .lockAbandoned(tx, now, now.minus(config.stallTimeout()), 100)
                .call(list -> io.smallrye.mutiny.Multi.createFrom().iterable(list)
                        .onItem().transformToUniAndConcatenate(d -> {
                            String reason = Dataset.AWAITING_UPLOAD.equals(d.phase())
                                    ? "No file was uploaded before the upload URL expired at "
                                            + d.uploadExpiresAt().truncatedTo(ChronoUnit.SECONDS)
                                    : "The upload was interrupted (no progress since "
                                            + d.updatedAt().truncatedTo(ChronoUnit.SECONDS) + "); create the dataset again";
                            return repository.markFailed(tx, d.team(), d.datasetId(), reason, 1,
                                    List.of(new RecordError(0, null, reason)), null, now)
                                    .call(f -> events.failed(tx, f));
                        }).collect().asList()))
                .await().atMost(STORE_TIMEOUT);
        for (Dataset d : abandoned) {
            if (!Dataset.AWAITING_UPLOAD.equals(d.phase())) {
                removeQuietly(prefix(d));
            }
            LOG.infof("Dataset %s/%s failed: its upload was %s", d.team(), d.datasetId(),
                    Dataset.AWAITING_UPLOAD.equals(d.phase()) ? "never received" : "interrupted");
        }
        for (Dataset d : repository.findStaleDeletions(now.minus(Duration.ofMinutes(1)), 100).await().atMost(STORE_TIMEOUT)) {
            finishDeletion(d).await().atMost(STORE_TIMEOUT);
        }
    }

    private static String prefix(Dataset d) {
        return "datasets/" + d.team() + "/" + d.datasetId() + "/";
    }

    private void removeQuietly(String keyOrPrefix) {
        try {
            store.removeAll(keyOrPrefix);
        } catch (RuntimeException e) {
            LOG.warnf("Could not remove %s from the object store (%s); the sweeper will not retry it", keyOrPrefix, e.toString());
        }
    }

    private static String safeName(String field, String value) {
        if (value == null) {
            throw ApiException.badRequest("Missing required field '" + field + "'");
        }
        if (!SAFE_NAME.matcher(value).matches()) {
            throw ApiException.badRequest("Invalid field '" + field + "': expected 1-63 characters of lowercase letters, digits, "
                    + "'.', '_' and '-', starting with a letter or digit, got '" + value + "'");
        }
        return value;
    }

    private static String oneOf(String field, String value, List<String> allowed) {
        if (value == null) {
            throw ApiException.badRequest("Missing required field '" + field + "': expected one of " + String.join(", ", allowed));
        }
        return oneOf(field, value, allowed, false);
    }

    private static String oneOf(String field, String value, List<String> allowed, boolean queryParameter) {
        if (!allowed.contains(value)) {
            throw ApiException.badRequest("Invalid " + (queryParameter ? "query parameter" : "field") + " '" + field
                    + "': expected one of " + String.join(", ", allowed) + ", got '" + value + "'");
        }
        return value;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
