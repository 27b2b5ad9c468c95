package dev.mlinfra.commons.events;

import java.time.Instant;
import java.util.Map;

/**
 * The events of {@code mlinfra.models}, published by registry-service through its outbox: what a
 * consumer (inference-service deploying models, the MLflow mirror) needs to act on a model
 * version without calling back. The envelope's team is the model's team; its subject (and Kafka
 * key) is the model id, so the events of one model stay ordered. Every event is about one version;
 * a promotion that archives the previous production version publishes a second
 * {@code model.stage_changed} for it.
 */
public final class ModelEvents {

    /** Default topic; services read it from configuration. */
    public static final String TOPIC = "mlinfra.models";
    public static final String REGISTERED = "model.registered";
    public static final String STAGE_CHANGED = "model.stage_changed";
    public static final String DELETED = "model.deleted";

    private ModelEvents() {
    }

    /**
     * A new version of a model (the first one registers the model).
     *
     * @param modelId         the model's id, unique in its team
     * @param modelType       the base model ({@code scout}, {@code maverick})
     * @param version         the version the registry assigned ({@code v1.0.0}, {@code v1.1.0}, ...)
     * @param stage           its stage: none, staging, production or archived
     * @param trainingJobId   the completed training job it comes from
     * @param artifact        where its LoRA adapter is ({@code s3://.../adapter/}), PEFT layout
     * @param metrics         the job's evaluated metrics (eval_loss, accuracy, f1, trajectory_similarity, base, ...)
     * @param reportedMetrics metrics the user sent with the registration (may be empty)
     * @param description     the model's description
     * @param createdAt       when the version was registered
     */
    public record Registered(String modelId, String modelType, String version, String stage, String trainingJobId,
            String artifact, Map<String, Object> metrics, Map<String, Object> reportedMetrics, String description,
            Instant createdAt) {
    }

    /**
     * A version moved from one stage to another.
     *
     * @param modelId       the model's id
     * @param modelType     the base model
     * @param version       the version that moved
     * @param fromStage     its stage before
     * @param stage         its stage now
     * @param artifact      where its adapter is
     * @param trainingJobId the job it comes from
     * @param changedBy     the API key id that made the change (null when the registry made it, e.g. archiving a replaced production version)
     * @param changedAt     when
     */
    public record StageChanged(String modelId, String modelType, String version, String fromStage, String stage,
            String artifact, String trainingJobId, String changedBy, Instant changedAt) {
    }

    /**
     * A model and all its versions were deleted from the registry (the training jobs' artifacts stay).
     *
     * @param modelId   the model's id
     * @param modelType the base model
     * @param versions  the versions it had, oldest first
     */
    public record Deleted(String modelId, String modelType, java.util.List<String> versions) {
    }
}
