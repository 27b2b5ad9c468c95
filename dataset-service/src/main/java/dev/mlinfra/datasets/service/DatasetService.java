package dev.mlinfra.datasets.service;

import dev.mlinfra.commons.api.Page;
import dev.mlinfra.commons.api.PageParams;
import dev.mlinfra.commons.error.ApiException;
import dev.mlinfra.commons.persistence.DatabaseErrors;
import dev.mlinfra.commons.persistence.TextEnum;
import dev.mlinfra.commons.storage.ObjectStore;
import dev.mlinfra.datasets.Dataset;
import dev.mlinfra.datasets.Dataset.Phase;
import dev.mlinfra.datasets.Dataset.Statistics;
import dev.mlinfra.datasets.Dataset.Status;
import dev.mlinfra.datasets.config.DatasetConfig;
import dev.mlinfra.datasets.messaging.DatasetEvents;
import dev.mlinfra.datasets.repository.DatasetRepository;
import dev.mlinfra.datasets.validation.DatasetScanner;
import dev.mlinfra.datasets.validation.RecordError;
import dev.mlinfra.datasets.validation.ScanResult;
import dev.mlinfra.datasets.validation.StreamingScan;
import io.quarkus.hibernate.reactive.panache.common.WithTransaction;
import io.quarkus.vertx.VertxContextSupport;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
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
import org.jboss.logging.Logger;

/**
 * The life of a dataset: created {@code pending} with a one-use upload URL; its file streamed
 * into the object store and validated record by record in the same pass; {@code ready} with
 * statistics or {@code failed} with reasons (and no object left behind); deleted with its objects.
 *
 * <p>Reactive from end to end: every method returns a {@link Uni} and runs its database work on
 * the caller's Vert.x context, each state change in its own short transaction. The blocking work
 * (streaming a file into the object store, removing objects) runs on a worker thread through
 * {@link VertxContextSupport#executeBlocking}, which hands its result back on the same context.
 */
@ApplicationScoped
public class DatasetService {

    private static final Logger LOG = Logger.getLogger(DatasetService.class);
    /** Rows a sweep handles at most; the next sweep takes the rest. */
    private static final int SWEEP_BATCH = 100;

    /** What happened to an uploaded file on the worker thread. */
    private sealed interface Received {
    }

    /** The whole file is stored (and removed again if it is not valid). */
    private record Stored(ScanResult scan, long size, String checksum) implements Received {
    }

    /** The body could not be read to its end; nothing is stored. */
    private record Interrupted(long bytes, String reason) implements Received {
    }

    /** The object store refused or failed; nothing is stored, the upload URL stays usable. */
    private record StoreUnavailable() implements Received {
    }

    private final DatasetRepository repository;
    private final DatasetEvents events;
    private final ObjectStore store;
    private final DatasetReferences references;
    private final UploadHeartbeat heartbeat;
    private final DatasetConfig config;
    private final DatasetScanner scanner;

    public DatasetService(DatasetRepository repository, DatasetEvents events, ObjectStore store,
            DatasetReferences references, UploadHeartbeat heartbeat, DatasetConfig config) {
        this.repository = repository;
        this.events = events;
        this.store = store;
        this.references = references;
        this.heartbeat = heartbeat;
        this.config = config;
        this.scanner = new DatasetScanner(config.maxStringLength(), config.reportedErrors());
    }

    /** Creates a pending dataset and its upload URL; the fields are validated by the caller. */
    @WithTransaction
    public Uni<Dataset> create(String team, String name, String description, String source, String format,
            String version) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        Dataset d = new Dataset();
        d.team = team;
        d.datasetId = name;
        d.name = name;
        d.description = description == null ? "" : description;
        d.source = source;
        d.format = format;
        d.version = version;
        d.status = Status.PENDING;
        d.phase = Phase.AWAITING_UPLOAD;
        d.createdAt = now;
        d.updatedAt = now;
        d.uploadId = "upl-" + UUID.randomUUID().toString().replace("-", "");
        d.uploadExpiresAt = now.plus(config.uploadExpiry());
        return repository.nameTaken(team, name).flatMap(taken -> {
            if (taken) {
                throw nameConflict(team, name);
            }
            return repository.persistAndFlush(d);
        }).onFailure(DatabaseErrors::uniqueViolation).transform(e -> nameConflict(team, name))
                .invoke(() -> LOG.infof("Dataset %s/%s created (%s, %s), waiting for its file until %s", team, name,
                        source, format, d.uploadExpiresAt));
    }

    private static ApiException nameConflict(String team, String name) {
        return ApiException.conflict("A dataset named '" + name + "' already exists in team '" + team
                + "'; dataset names are unique per team, so upload a new version under a new name (e.g. '" + name + "-v2')");
    }

    public Uni<Dataset> get(String team, String datasetId) {
        return repository.findVisible(team, datasetId).onItem().ifNull()
                .failWith(() -> ApiException.notFound("Dataset '" + datasetId + "' not found"));
    }

    /** {@code status} and {@code source} are the raw query values (null: no filter). */
    public Uni<Page<Dataset>> list(String team, String source, String status, PageParams page) {
        String s = source == null ? null : oneOf("query parameter 'source'", source, Dataset.SOURCES);
        List<Status> statuses = status == null ? Status.VISIBLE
                : List.of(TextEnum.parse("query parameter 'status'", status, Status.VISIBLE));
        return repository.list(team, statuses, s, page)
                .flatMap(items -> repository.count(team, statuses, s).map(total -> Page.of("datasets", items, total, page)));
    }

    /**
     * Receives the file of a dataset: claims the upload URL, streams the body into the object
     * store while validating it, and records the outcome. {@code length} is the request's
     * Content-Length, or -1 for a chunked request; {@code accepted} runs once the URL is claimed,
     * before the body is read (it lets the body flow). Call it on the request's Vert.x context.
     */
    public Uni<Dataset> receive(String team, String uploadId, InputStream body, long length, Runnable accepted) {
        return claimUpload(team, uploadId, Instant.now()).flatMap(d -> {
            accepted.run();
            heartbeat.track(d.uploadId);
            return VertxContextSupport.executeBlocking(() -> storeAndValidate(d, body, length))
                    .eventually(() -> heartbeat.untrack(d.uploadId))
                    .flatMap(received -> record(d, received));
        });
    }

    /** Takes the upload URL for one use: only a pending, unexpired dataset awaiting its file is claimed. */
    @WithTransaction
    Uni<Dataset> claimUpload(String team, String uploadId, Instant now) {
        return repository.lockByUpload(team, uploadId).map(d -> {
            if (d == null) {
                throw ApiException.notFound("Upload URL not found");
            }
            if (!d.awaitingUpload()) {
                throw usedUpload(d);
            }
            if (!d.uploadExpiresAt.isAfter(now)) {
                throw ApiException.conflict("This upload URL expired at " + d.uploadExpiresAt
                        + "; create a new dataset to upload the file");
            }
            d.phase = Phase.RECEIVING;
            d.updatedAt = now;
            return d;
        });
    }

    private static ApiException usedUpload(Dataset d) {
        if (d.status == Status.FAILED && d.size == null) {
            return ApiException.conflict("This upload URL can no longer be used: " + d.failure.reason());
        }
        if (d.status == Status.PENDING && d.phase == Phase.RECEIVING) {
            return ApiException.conflict("The file of dataset '" + d.datasetId + "' is being uploaded on this URL now; an"
                    + " upload URL works once: wait for that upload's answer, or GET /v1/datasets/" + d.datasetId
                    + " for its status");
        }
        return ApiException.conflict("The file of dataset '" + d.datasetId + "' was already uploaded; an upload URL works once");
    }

    /** The blocking part of an upload, on a worker thread: one pass that hashes, validates and stores. */
    private Received storeAndValidate(Dataset d, InputStream body, long length) {
        MessageDigest sha256 = sha256();
        StreamingScan scan = new StreamingScan(new DigestInputStream(body, sha256), scanner, d.format,
                "dataset-scan-" + d.datasetId);
        try {
            store.put(d.fileKey(), scan.source(), length, "json".equals(d.format) ? "application/json" : "application/x-ndjson");
        } catch (ObjectStore.ObjectStoreException e) {
            scan.close();
            LOG.errorf(e, "Object store refused the file of %s/%s", d.team, d.datasetId);
            return new StoreUnavailable();
        } catch (UncheckedIOException e) {
            // The body could not be read to its end (the client went away): nothing was stored.
            scan.close();
            removeQuietly(d);
            return new Interrupted(scan.bytes(), e.getCause().getMessage());
        } catch (RuntimeException e) {
            scan.close();
            throw e;
        }
        ScanResult result = scan.finish();
        if (scan.bytes() == 0 || !result.valid()) {
            removeQuietly(d);
        }
        return new Stored(result, scan.bytes(), HexFormat.of().formatHex(sha256.digest()));
    }

    /** Records what became of the file: ready with its statistics, or failed with the reasons. */
    private Uni<Dataset> record(Dataset d, Received received) {
        Uni<Dataset> recorded = switch (received) {
            case StoreUnavailable u -> reopenUpload(d).onItem().ifNotNull().failWith(() ->
                    ApiException.unavailable("Object storage is unavailable; retry the upload", 5));
            case Interrupted i -> {
                String reason = "The upload was interrupted after " + i.bytes() + " bytes: " + i.reason()
                        + "; delete the dataset and create it again";
                yield fail(d, reason, List.of(new RecordError(0, null, reason)), 1, null);
            }
            case Stored s when s.size() == 0 -> fail(d, "The file is empty",
                    List.of(new RecordError(0, null, "the file is empty (0 bytes)")), 1, 0L);
            case Stored s when !s.scan().valid() -> fail(d, s.scan().summary(), s.scan().errorCount() == 0
                    ? List.of(new RecordError(0, null, "the file holds no records"))
                    : s.scan().firstErrors(), Math.max(1, s.scan().errorCount()), s.scan().records());
            case Stored s -> markReady(d, s);
        };
        return recorded.onItem().ifNull().switchTo(() -> givenUp(d));
    }

    /**
     * The sweeper failed the dataset while its file was being received here (this service had
     * stopped reporting progress for the stall timeout, e.g. while its database was away): the
     * sweeper's outcome stands, and what this upload stored goes.
     */
    private Uni<Dataset> givenUp(Dataset d) {
        LOG.warnf("The upload of %s/%s was given up by the sweeper while it was received; its file is removed", d.team,
                d.datasetId);
        return VertxContextSupport.executeBlocking(() -> {
            removeQuietly(d);
            return (Dataset) null;
        }).flatMap(ignored -> Uni.createFrom().failure(ApiException.conflict("The upload of dataset '" + d.datasetId
                + "' was given up while it was received (the service receiving it stopped reporting progress); create"
                + " the dataset again")));
    }

    /** The claimed dataset, locked, while its file is still being received; null once the sweeper gave it up. */
    private Uni<Dataset> stillReceiving(Dataset claimed) {
        return repository.lockByUpload(claimed.team, claimed.uploadId)
                .map(d -> d != null && d.phase == Phase.RECEIVING ? d : null);
    }

    /** The upload URL works again (the store failed before anything was stored); null when given up. */
    @WithTransaction
    Uni<Dataset> reopenUpload(Dataset claimed) {
        return stillReceiving(claimed).invoke(d -> {
            if (d != null) {
                d.phase = Phase.AWAITING_UPLOAD;
                d.updatedAt = Instant.now();
            }
        });
    }

    /** Null when given up. */
    @WithTransaction
    Uni<Dataset> markReady(Dataset claimed, Stored stored) {
        ScanResult scan = stored.scan();
        return stillReceiving(claimed).onItem().ifNotNull().transformToUni(d -> {
            d.status = Status.READY;
            d.phase = Phase.DONE;
            d.objectKey = d.fileKey();
            d.size = stored.size();
            d.checksumSha256 = stored.checksum();
            d.numExamples = scan.records();
            d.statistics = new Statistics(List.copyOf(scan.repositories()), List.copyOf(scan.issueTypes()),
                    scan.earliest(), scan.latest());
            d.updatedAt = Instant.now();
            return events.ready(d, store.uri(d.objectKey)).replaceWith(d)
                    .invoke(() -> LOG.infof("Dataset %s/%s ready: %d records, %d bytes, sha256 %s", d.team, d.datasetId,
                            d.numExamples, d.size, d.checksumSha256));
        });
    }

    /** Fails a dataset whose objects are gone (or never were); null when given up. */
    @WithTransaction
    Uni<Dataset> fail(Dataset claimed, String reason, List<RecordError> errors, long errorCount, Long records) {
        return stillReceiving(claimed).onItem().ifNotNull().transformToUni(d -> markFailed(d, reason, errors, errorCount, records));
    }

    private Uni<Dataset> markFailed(Dataset d, String reason, List<RecordError> errors, long errorCount, Long records) {
        d.status = Status.FAILED;
        d.phase = Phase.DONE;
        d.failure = new Dataset.Failure(reason, errorCount, List.copyOf(errors));
        d.numExamples = records;
        d.objectKey = null;
        d.updatedAt = Instant.now();
        LOG.infof("Dataset %s/%s failed: %s", d.team, d.datasetId, reason);
        return events.failed(d).replaceWith(d);
    }

    /** A deleted dataset, and whether its stored objects are gone already or are removed by the sweeper. */
    public record Deletion(Dataset dataset, boolean objectsRemoved) {
    }

    /**
     * Deletes a dataset and its stored objects; refused while a training job uses it or its file is
     * arriving. The dataset is hidden first and only then are its uses asked for (training-service
     * answers once the creations of jobs on it that are under way are committed), so a job is either
     * seen by the deletion, which then puts the dataset back and is refused, or finds the dataset gone.
     * Once it is decided, the deletion holds: should the object store be away, the dataset is gone for
     * its team at once and the sweeper removes its objects and its row later.
     */
    public Uni<Deletion> delete(String team, String datasetId) {
        return markDeleting(team, datasetId)
                .call(marked -> references.inUseBy(team, datasetId)
                        .onFailure().call(e -> putBack(marked))
                        .flatMap(user -> user == null ? Uni.createFrom().voidItem() : putBack(marked).invoke(() -> {
                            throw ApiException.conflict("Dataset '" + datasetId + "' is used by " + user
                                    + " and cannot be deleted now");
                        })))
                .map(Marked::dataset)
                .flatMap(d -> finishDeletion(d).map(done -> new Deletion(d, true))
                        .onFailure(e -> e instanceof ObjectStore.ObjectStoreException || e instanceof UncheckedIOException)
                        .recoverWithItem(e -> {
                            LOG.warnf("Dataset %s/%s deleted; its stored objects could not be removed now (%s): the sweeper"
                                    + " removes them", team, datasetId, e.getMessage());
                            return new Deletion(d, false);
                        }));
    }

    /** A dataset hidden for deletion, and the status it had. */
    record Marked(Dataset dataset, Status before) {
    }

    /** Hides a dataset for deletion: from here on only the check of its uses and the removal of its objects and its row remain. */
    @WithTransaction
    Uni<Marked> markDeleting(String team, String datasetId) {
        return repository.lockVisible(team, datasetId).map(d -> {
            if (d == null) {
                throw ApiException.notFound("Dataset '" + datasetId + "' not found");
            }
            if (d.phase == Phase.RECEIVING) {
                throw ApiException.conflict("Dataset '" + datasetId + "' is receiving its file; delete it once that is over");
            }
            Marked marked = new Marked(d, d.status);
            d.status = Status.DELETING;
            d.updatedAt = Instant.now();
            return marked;
        });
    }

    /** Shows a dataset hidden for a deletion that is refused again, as it was. */
    @WithTransaction
    Uni<Void> putBack(Marked marked) {
        return repository.update("status = ?1, updatedAt = ?2 where seq = ?3 and status = ?4", marked.before(), Instant.now(),
                marked.dataset().seq, Status.DELETING).replaceWithVoid();
    }

    /** Removes the objects (on a worker thread), then the row with its event. */
    Uni<Dataset> finishDeletion(Dataset d) {
        return VertxContextSupport.executeBlocking(() -> store.removeAll(d.storagePrefix()))
                .flatMap(removed -> removeRow(d, removed));
    }

    /** The row and its event; nothing when another (a request, or the sweeper elsewhere) removed it first. */
    @WithTransaction
    Uni<Dataset> removeRow(Dataset d, int removedObjects) {
        return repository.delete("seq", d.seq)
                .flatMap(rows -> rows == 0 ? Uni.createFrom().voidItem() : events.deleted(d)
                        .invoke(() -> LOG.infof("Dataset %s/%s deleted with %d stored objects", d.team, d.datasetId,
                                removedObjects)))
                .replaceWith(d);
    }

    /**
     * Claims an interrupted deletion for this sweep: one sweeper finishes it, where several replicas
     * sweep (the claim makes it young again for the others).
     */
    @WithTransaction
    Uni<Boolean> claimDeletion(Dataset d, Instant staleBefore) {
        return repository.update("updatedAt = ?1 where seq = ?2 and status = ?3 and updatedAt <= ?4", Instant.now(), d.seq,
                Status.DELETING, staleBefore).map(rows -> rows == 1);
    }

    /**
     * Fails uploads that never came or whose receiver is gone (removing whatever they stored,
     * incomplete multipart uploads included), and finishes interrupted deletions.
     */
    public Uni<Void> sweep() {
        Instant now = Instant.now();
        return failAbandoned(now)
                .flatMap(ignored -> repository.staleDeletions(now.minus(config.deletionGrace()), SWEEP_BATCH))
                .flatMap(stale -> Multi.createFrom().iterable(stale).onItem().transformToUniAndConcatenate(d ->
                        claimDeletion(d, now.minus(config.deletionGrace())).flatMap(claimed -> claimed
                                ? finishOrPutBack(d) : Uni.createFrom().voidItem())
                                .onFailure().recoverWithItem(e -> {
                                    LOG.warnf("Could not finish the deletion of dataset %s/%s, the next sweep tries again: %s",
                                            d.team, d.datasetId, e.toString());
                                    return null;
                                }))
                        .collect().last())
                .replaceWithVoid();
    }

    /**
     * Finishes an interrupted deletion, unless its service stopped before the dataset's uses were
     * checked and training jobs (known from their events by now) use it: then the dataset stays.
     */
    private Uni<Void> finishOrPutBack(Dataset d) {
        return references.openJobs(d.team, d.datasetId).flatMap(open -> {
            if (open.isEmpty()) {
                return finishDeletion(d).replaceWithVoid();
            }
            LOG.warnf("The deletion of dataset %s/%s stopped before its uses were checked, and training jobs use it (%s):"
                    + " it stays", d.team, d.datasetId, String.join(", ", open));
            return putBack(new Marked(d, Status.READY));
        });
    }

    /**
     * In one transaction that holds the rows: removes what stalled uploads stored, then fails
     * them. Should the object store be down, nothing is marked and the next sweep tries again.
     */
    @WithTransaction
    Uni<List<Dataset>> failAbandoned(Instant now) {
        return repository.lockAbandoned(now, now.minus(config.stallTimeout()), SWEEP_BATCH).flatMap(abandoned -> {
            if (abandoned.isEmpty()) {
                return Uni.createFrom().item(abandoned);
            }
            List<Dataset> stalled = abandoned.stream().filter(d -> d.phase == Phase.RECEIVING).toList();
            return VertxContextSupport.executeBlocking(() -> {
                for (Dataset d : stalled) {
                    store.removeAll(d.storagePrefix());
                }
                return stalled.size();
            }).flatMap(ignored -> Multi.createFrom().iterable(abandoned).onItem().transformToUniAndConcatenate(d -> {
                String reason = d.phase == Phase.AWAITING_UPLOAD
                        ? "No file was uploaded before the upload URL expired at " + d.uploadExpiresAt
                        : "The upload was interrupted: the service receiving it stopped (no heartbeat since "
                                + d.updatedAt.truncatedTo(ChronoUnit.SECONDS) + "); create the dataset again";
                return markFailed(d, reason, List.of(new RecordError(0, null, reason)), 1, null);
            }).collect().asList());
        });
    }

    private void removeQuietly(Dataset d) {
        try {
            store.removeAll(d.storagePrefix());
        } catch (RuntimeException e) {
            LOG.warnf("Could not remove %s from the object store (%s)", d.storagePrefix(), e.toString());
        }
    }

    private static String oneOf(String what, String value, List<String> allowed) {
        if (!allowed.contains(value)) {
            throw ApiException.badRequest("Invalid " + what + ": expected one of " + String.join(", ", allowed)
                    + ", got '" + value + "'");
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
