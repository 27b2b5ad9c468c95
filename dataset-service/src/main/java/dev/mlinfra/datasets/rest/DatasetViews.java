package dev.mlinfra.datasets.rest;

import dev.mlinfra.datasets.Dataset;
import dev.mlinfra.datasets.Dataset.Status;
import java.time.Instant;
import java.util.List;

/** The API records of datasets, as the contract spells them. */
public final class DatasetViews {

    private DatasetViews() {
    }

    public record Metadata(List<String> repositories, List<String> issueTypes, List<String> dateRange) {
    }

    public record DatasetView(String datasetId, String name, String description, String source, String format,
            String version, Instant createdAt, Status status, String uploadUrl, Instant uploadExpiresAt, Long size,
            Long numExamples, Metadata metadata, String checksumSha256, Dataset.Failure failure) {
    }

    /** A dataset in a list: the contract's summary fields. */
    public record DatasetSummary(String datasetId, String name, String description, String source, String format,
            String version, Instant createdAt, Status status) {
    }

    public record Deleted(String datasetId, String status, String message) {
    }

    /** What another service needs to use a dataset (internal API), and the open training jobs that use it. */
    public record Resolved(String datasetId, String team, Status status, String format, String version,
            String objectUri, String checksumSha256, Long numExamples, Long size, List<String> usedBy) {
    }

    public static DatasetView full(Dataset d, String publicUrl) {
        boolean awaiting = d.awaitingUpload();
        boolean ready = d.status == Status.READY;
        Metadata metadata = ready && d.statistics != null
                ? new Metadata(d.statistics.repositories(), d.statistics.issueTypes(),
                        List.of(d.statistics.earliest().toString(), d.statistics.latest().toString()))
                : null;
        return new DatasetView(d.datasetId, d.name, d.description, d.source, d.format, d.version, d.createdAt, d.status,
                awaiting ? uploadUrl(publicUrl, d) : null, awaiting ? d.uploadExpiresAt : null, d.size, d.numExamples,
                metadata, ready ? d.checksumSha256 : null, d.status == Status.FAILED ? d.failure : null);
    }

    public static DatasetSummary summary(Dataset d) {
        return new DatasetSummary(d.datasetId, d.name, d.description, d.source, d.format, d.version, d.createdAt, d.status);
    }

    static String uploadUrl(String publicUrl, Dataset d) {
        String base = publicUrl.endsWith("/") ? publicUrl.substring(0, publicUrl.length() - 1) : publicUrl;
        return base + "/v1/datasets/upload/" + d.uploadId;
    }
}
