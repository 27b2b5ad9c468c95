package dev.mlinfra.registry.rest;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.mlinfra.registry.Model;
import dev.mlinfra.registry.ModelStatus;
import dev.mlinfra.registry.ModelVersion;
import dev.mlinfra.registry.Stage;
import dev.mlinfra.registry.StageChange;
import dev.mlinfra.registry.service.RegistryService.ModelState;
import java.time.Instant;
import java.util.Map;

/** The API records of models, as the contract spells them (and what it leaves open, named alike). */
public final class ModelViews {

    private ModelViews() {
    }

    /**
     * A model as its version speaks for it: the current one for GET, the one registered or moved
     * for POST. {@code metrics} are the ones the training job measured; {@code reported_metrics}
     * those the user sent.
     */
    public record ModelView(String modelId, String modelType, Instant createdAt, Instant updatedAt, ModelStatus status,
            String description, Stage stage, String version, String trainingJobId, Map<String, Object> metrics,
            Map<String, Object> reportedMetrics, String artifact, int versions, String message) {
    }

    /** A model in a list: the contract's fields and its current version. */
    public record ModelSummary(String modelId, String modelType, Instant createdAt, ModelStatus status, String description,
            String version, Stage stage) {
    }

    public record VersionView(String version, Stage stage, String trainingJobId, String artifact, Map<String, Object> metrics,
            Map<String, Object> reportedMetrics, Instant createdAt, Instant updatedAt) {
    }

    /** {@code from_stage} is null for a registration, {@code changed_by} for a move the registry made itself; both always present. */
    public record StageChangeView(String version, @JsonInclude(JsonInclude.Include.ALWAYS) Stage fromStage, Stage toStage,
            @JsonInclude(JsonInclude.Include.ALWAYS) String changedBy, String team, Instant changedAt, String message) {
    }

    public record Deleted(String modelId, String status, String message) {
    }

    public static ModelView of(ModelState s) {
        Model m = s.model();
        ModelVersion v = s.current();
        return new ModelView(m.modelId, m.modelType, m.createdAt, m.updatedAt, m.status, m.description, v.stage, v.version,
                v.trainingJobId, v.metrics, v.reportedMetrics, v.artifact, s.versions(), s.message());
    }

    public static ModelSummary summary(Model m) {
        return new ModelSummary(m.modelId, m.modelType, m.createdAt, m.status, m.description, m.currentVersion, m.currentStage);
    }

    public static VersionView version(ModelVersion v) {
        return new VersionView(v.version, v.stage, v.trainingJobId, v.artifact, v.metrics, v.reportedMetrics, v.createdAt,
                v.updatedAt);
    }

    public static StageChangeView change(StageChange c) {
        return new StageChangeView(c.version, c.fromStage, c.toStage, c.changedBy, c.team, c.changedAt, c.message);
    }
}
