package dev.mlinfra.datasets;

import dev.mlinfra.datasets.validation.RecordError;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;

/** A team's dataset: its metadata, where its file is, and what validation found. */
public record Dataset(
        String team,
        String datasetId,
        String name,
        String description,
        String source,
        String format,
        String version,
        String status,
        String phase,
        Instant createdAt,
        Instant updatedAt,
        String uploadId,
        Instant uploadExpiresAt,
        String objectKey,
        Long size,
        Long numExamples,
        String checksumSha256,
        List<String> repositories,
        List<String> issueTypes,
        LocalDate dateFrom,
        LocalDate dateTo,
        String failureReason,
        Long errorCount,
        List<RecordError> errors) {

    public static final String PENDING = "pending";
    public static final String READY = "ready";
    public static final String FAILED = "failed";
    /** Being removed: invisible to users, finished by the sweeper if the service stops half-way. */
    public static final String DELETING = "deleting";

    public static final String AWAITING_UPLOAD = "awaiting_upload";
    public static final String RECEIVING = "receiving";
    public static final String VALIDATING = "validating";
    public static final String DONE = "done";

    public static final List<String> SOURCES = List.of("github", "gitee");
    public static final List<String> FORMATS = List.of("json", "jsonl");
    /** Statuses a user can filter by. */
    public static final List<String> VISIBLE_STATUSES = List.of(PENDING, READY, FAILED);
}
