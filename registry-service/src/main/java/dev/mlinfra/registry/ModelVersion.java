package dev.mlinfra.registry;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.Map;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** A version of a model: the adapter of one completed training job, its metrics and its stage. */
@Entity
@Table(name = "model_version")
public class ModelVersion extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    /** The model row it belongs to. */
    @Column(name = "model_ref", nullable = false)
    public Long modelRef;

    @Column(nullable = false)
    public String team;

    @Column(name = "model_id", nullable = false)
    public String modelId;

    /** {@code v1.<minor>.0}. */
    @Column(nullable = false)
    public String version;

    /** Orders a model's versions: 0 for the first. */
    @Column(nullable = false)
    public int minor;

    @Column(name = "training_job_id", nullable = false)
    public String trainingJobId;

    /** Where its adapter is ({@code s3://.../adapter/}), or the full model for a job without LoRA. */
    @Column(nullable = false)
    public String artifact;

    /** What the training job measured on held-out records (eval_loss, accuracy, f1, trajectory_similarity, base, ...). */
    @JdbcTypeCode(SqlTypes.JSON)
    @Column(nullable = false)
    public Map<String, Object> metrics;

    /** What the user reported with the registration. */
    @JdbcTypeCode(SqlTypes.JSON)
    @Column(name = "reported_metrics", nullable = false)
    public Map<String, Object> reportedMetrics;

    @Column(nullable = false)
    public Stage stage;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;

    /** The Idempotency-Key of the registration that created it, if it had one, and its body's fingerprint. */
    @Column(name = "idempotency_key")
    public String idempotencyKey;

    @Column(name = "request_hash")
    public String requestHash;

    public static String versionName(int minor) {
        return "v1." + minor + ".0";
    }
}
