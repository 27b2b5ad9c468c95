package dev.mlinfra.datasets;

import dev.mlinfra.commons.persistence.TextEnum;
import dev.mlinfra.commons.persistence.TextEnumConverter;
import dev.mlinfra.datasets.validation.RecordError;
import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Converter;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.NamedQueries;
import jakarta.persistence.NamedQuery;
import jakarta.persistence.Table;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/**
 * A team's dataset: its metadata, where its file is, and what validation found. A team's
 * datasets are unique by {@code datasetId} (the table's primary key is {@code (team, dataset_id)});
 * {@code seq} orders them and identifies the row.
 */
@Entity
@Table(name = "dataset")
@NamedQueries({
        @NamedQuery(name = Dataset.HEARTBEAT, query = """
                update Dataset set updatedAt = :now where uploadId in :uploadIds and phase = :receiving"""),
        @NamedQuery(name = Dataset.ABANDONED, query = """
                from Dataset where status = :pending
                  and ((phase = :awaiting and uploadExpiresAt <= :now) or (phase = :receiving and updatedAt <= :stalledBefore))
                order by updatedAt"""),
        @NamedQuery(name = Dataset.STALE_DELETIONS, query = """
                from Dataset where status = :deleting and updatedAt <= :before order by updatedAt""")
})
public class Dataset extends PanacheEntityBase {

    public static final String HEARTBEAT = "Dataset.heartbeat";
    public static final String ABANDONED = "Dataset.abandoned";
    public static final String STALE_DELETIONS = "Dataset.staleDeletions";

    /** Where datasets come from. */
    public static final List<String> SOURCES = List.of("github", "gitee");
    /** How their files are laid out: one JSON array, or one record per line. */
    public static final List<String> FORMATS = List.of("json", "jsonl");

    /** What users see of a dataset's life. */
    public enum Status implements TextEnum {
        PENDING("pending"),
        READY("ready"),
        FAILED("failed"),
        /** Being removed: invisible to users, finished by the sweeper if the service stops half-way. */
        DELETING("deleting");

        /** The statuses users can see and filter by. */
        public static final List<Status> VISIBLE = List.of(PENDING, READY, FAILED);

        private final String value;

        Status(String value) {
            this.value = value;
        }

        @Override
        public String value() {
            return value;
        }
    }

    /** Where the upload of a pending dataset stands. */
    public enum Phase implements TextEnum {
        /** The upload URL waits for the file. */
        AWAITING_UPLOAD("awaiting_upload"),
        /** The file streams in and is validated as it comes; {@code updatedAt} is the receiver's last heartbeat. */
        RECEIVING("receiving"),
        /** Ready or failed. */
        DONE("done");

        private final String value;

        Phase(String value) {
            this.value = value;
        }

        @Override
        public String value() {
            return value;
        }
    }

    @Converter(autoApply = true)
    public static class StatusConverter extends TextEnumConverter<Status> {
        public StatusConverter() {
            super(Status.class);
        }
    }

    @Converter(autoApply = true)
    public static class PhaseConverter extends TextEnumConverter<Phase> {
        public PhaseConverter() {
            super(Phase.class);
        }
    }

    /** What a ready dataset's records hold (a JSON column). */
    public record Statistics(List<String> repositories, List<String> issueTypes, LocalDate earliest, LocalDate latest) {
    }

    /** Why a dataset failed: one line, how many problems, and the first of them in detail (a JSON column). */
    public record Failure(String reason, long errorCount, List<RecordError> errors) {
    }

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long seq;

    @Column(nullable = false)
    public String team;

    @Column(name = "dataset_id", nullable = false)
    public String datasetId;

    @Column(nullable = false)
    public String name;

    @Column(nullable = false)
    public String description;

    @Column(nullable = false)
    public String source;

    @Column(nullable = false)
    public String format;

    @Column(nullable = false)
    public String version;

    @Column(nullable = false)
    public Status status;

    @Column(nullable = false)
    public Phase phase;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;

    @Column(name = "upload_id", nullable = false, unique = true)
    public String uploadId;

    @Column(name = "upload_expires_at", nullable = false)
    public Instant uploadExpiresAt;

    /** The stored file's key; null until the file is stored, and again once it is removed. */
    @Column(name = "object_key")
    public String objectKey;

    public Long size;

    @Column(name = "num_examples")
    public Long numExamples;

    @Column(name = "checksum_sha256")
    public String checksumSha256;

    @JdbcTypeCode(SqlTypes.JSON)
    public Statistics statistics;

    @JdbcTypeCode(SqlTypes.JSON)
    public Failure failure;

    /** The prefix under which every object of this dataset is stored. */
    public String storagePrefix() {
        return "datasets/" + team + "/" + datasetId + "/";
    }

    /** The key of the dataset's file. */
    public String fileKey() {
        return storagePrefix() + version + "/data." + format;
    }

    public boolean awaitingUpload() {
        return status == Status.PENDING && phase == Phase.AWAITING_UPLOAD;
    }
}
