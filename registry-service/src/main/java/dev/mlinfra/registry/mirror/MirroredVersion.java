package dev.mlinfra.registry.mirror;

import dev.mlinfra.registry.Stage;
import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.NamedQuery;
import jakarta.persistence.Table;
import java.time.Instant;

/**
 * One of our model versions as mirrored to MLflow: the MLflow version number it became and the
 * stage last mirrored for it. Only the mirror reads and writes these rows.
 */
@Entity
@Table(name = "mlflow_mirror_version")
@NamedQuery(name = MirroredVersion.OF_MODEL, query = "from MirroredVersion where mlflowName = :name order by id")
public class MirroredVersion extends PanacheEntityBase {

    public static final String OF_MODEL = "MirroredVersion.ofModel";

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    /** The registered model's name in MLflow, {@code <team>.<model_id>}. */
    @Column(name = "mlflow_name", nullable = false)
    public String mlflowName;

    @Column(nullable = false)
    public String team;

    @Column(name = "model_id", nullable = false)
    public String modelId;

    /** Our version ({@code v1.0.0}). */
    @Column(nullable = false)
    public String version;

    /** The number MLflow gave it ({@code "1"}). */
    @Column(name = "mlflow_version", nullable = false)
    public String mlflowVersion;

    /** The stage last mirrored: its alias, if it has one, points at this version. */
    @Column(nullable = false)
    public Stage stage;

    @Column(name = "mirrored_at", nullable = false)
    public Instant mirroredAt;

    public static MirroredVersion of(ModelName model, String version, String mlflowVersion, Instant now) {
        MirroredVersion v = new MirroredVersion();
        v.mlflowName = model.mlflowName();
        v.team = model.team();
        v.modelId = model.modelId();
        v.version = version;
        v.mlflowVersion = mlflowVersion;
        v.stage = Stage.NONE;
        v.mirroredAt = now;
        return v;
    }
}
