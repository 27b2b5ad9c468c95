package dev.mlinfra.datasets.rest;

import dev.mlinfra.datasets.Dataset;
import dev.mlinfra.datasets.validation.RecordError;
import java.time.Instant;
import java.util.List;

/** The API records of datasets, as the contract spells them. */
public final class DatasetViews {

    private DatasetViews() {
    }

    public record Metadata(List<String> repositories, List<String> issueTypes, List<String> dateRange) {
    }

    /** Why a dataset failed: the first problems with their record and field, and how many there were. */
    public record Failure(String reason, long errorCount, List<RecordError> errors) {
    }

    public record DatasetView(String datasetId, String name, String description, String source, String format,
            String version, Instant createdAt, String status, String uploadUrl, Instant uploadExpiresAt, Long size,
            Long numExamples, Metadata metadata, String checksumSha256, Failure failure) {
    }

    /** A dataset in a list: the contract's summary fields. */
    public record DatasetSummary(String datasetId, String name, String description, String source, String format,
            String version, Instant createdAt, String status) {
    }

    public record Deleted(String datasetId, String status, String message) {
    }

    /** What another service needs to use a dataset (internal API). */
    public record Resolved(String datasetId, String team, String status, String format, String version,
            String objectUri, String checksumSha256, Long numExamples, Long size) {
    }

    public static DatasetView full(Dataset d, String publicUrl) {
        boolean awaiting = Dataset.PENDING.equals(d.status()) && Dataset.AWAITING_UPLOAD.equals(d.phase());
        Metadata metadata = Dataset.READY.equals(d.status())
                ? new Metadata(d.repositories(), d.issueTypes(), List.of(d.dateFrom().toString(), d.dateTo().toString()))
                : null;
        Failure failure = Dataset.FAILED.equals(d.status())
                ? new Failure(d.failureReason(), d.errorCount() == null ? 0 : d.errorCount(), d.errors())
                : null;
        return new DatasetView(d.datasetId(), d.name(), d.description(), d.source(), d.format(), d.version(),
                d.createdAt(), d.status(), awaiting ? uploadUrl(publicUrl, d) : null,
                awaiting ? d.uploadExpiresAt() : null, d.size(), d.numExamples(), metadata,
                Dataset.READY.equals(d.status()) ? d.checksumSha256() : null, failure);
    }

    public static DatasetSummary summary(Dataset d) {
        return new DatasetSummary(d.datasetId(), d.name(), d.description(), d.source(), d.format(), d.version(),
                d.createdAt(), d.status());
    }

    static String uploadUrl(String publicUrl, Dataset d) {
        String base = publicUrl.endsWith("/") ? publicUrl.substring(0, publicUrl.length() - 1) : publicUrl;
        return base + "/v1/datasets/upload/" + d.uploadId();
    }
}
