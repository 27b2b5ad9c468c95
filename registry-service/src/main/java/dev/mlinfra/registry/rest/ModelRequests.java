package dev.mlinfra.registry.rest;

import dev.mlinfra.commons.validation.MaxCharacters;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import java.util.Map;

/** The bodies of the Model Management endpoints. Unknown fields are refused. */
public final class ModelRequests {

    static final String MODEL_ID = "[a-z0-9][a-z0-9._-]{2,62}";
    static final String MODEL_ID_RULE = "3-63 characters of lowercase letters, digits, '.', '-' and '_', starting with a"
            + " letter or digit";
    /**
     * A training job id as training-service makes them ({@code train-<number>}), loosely: anything
     * else is refused here rather than sent on (a 10,000-character id came back from
     * training-service as a 414, which counted as its failure).
     */
    static final String TRAINING_JOB_ID = "[A-Za-z0-9._-]{1,64}";

    private ModelRequests() {
    }

    /** {@code POST /v1/models/register}. */
    public record Register(
            @NotNull(message = "is required: " + MODEL_ID_RULE) @Pattern(regexp = MODEL_ID, message = "must be " + MODEL_ID_RULE)
            String modelId,
            @NotNull(message = "is required: scout or maverick") String modelType,
            @MaxCharacters(2000) String description,
            @NotNull(message = "is required: the id of a completed training job of your team")
            @Pattern(regexp = TRAINING_JOB_ID, message = "must be the id of a training job, like train-100001 (at most 64"
                    + " letters, digits, '.', '-' and '_')")
            String trainingJobId,
            Map<String, Double> metrics,
            String stage) {
    }

    /** {@code POST /v1/models/{model_id}/stage}. */
    public record ChangeStage(
            @NotNull(message = "is required: one of none, staging, production, archived") String stage,
            @Pattern(regexp = "v\\d+\\.\\d+\\.\\d+", message = "must be a version of the model, like v1.0.0") String version) {
    }
}
