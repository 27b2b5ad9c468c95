package dev.mlinfra.training.rest;

import dev.mlinfra.commons.validation.MaxCharacters;
import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;

/** The body of {@code POST /v1/training/jobs}. Unknown fields, in it and in {@code config}, are refused. */
public record NewJobRequest(
        @NotNull(message = "is required: scout or maverick") String modelType,
        @NotBlank(message = "is required: the id of a ready dataset of your team")
        @Size(max = 63, message = "must be at most 63 characters: the id of a ready dataset of your team") String datasetId,
        @Valid JobConfig config,
        @MaxCharacters(200) String experimentName,
        @MaxCharacters(2000) String description) {

    /**
     * Hyperparameters: the contract's (learning rate to LoRA) and the trainer's options users
     * expect. Every one is optional (the trainer's defaults apply, see llm-engine/README.md) and
     * bounded.
     */
    public record JobConfig(
            @DecimalMin(value = "0", inclusive = false, message = "must be > 0")
            @DecimalMax(value = "1", message = "must be <= 1") Double learningRate,
            @Min(value = 1, message = "must be >= 1") @Max(value = 1024, message = "must be <= 1024") Integer batchSize,
            @Min(value = 1, message = "must be >= 1") @Max(value = 100, message = "must be <= 100") Integer epochs,
            Boolean useLora,
            @Min(value = 1, message = "must be >= 1") @Max(value = 256, message = "must be <= 256") Integer loraR,
            @DecimalMin(value = "0", inclusive = false, message = "must be > 0")
            @DecimalMax(value = "1024", message = "must be <= 1024") Double loraAlpha,
            @DecimalMin(value = "0", message = "must be >= 0")
            @DecimalMax(value = "1", inclusive = false, message = "must be < 1") Double loraDropout,
            @Min(value = 64, message = "must be >= 64") @Max(value = 1024, message = "must be <= 1024 (the model's context)")
            Integer maxSeqLen,
            @Min(value = 0, message = "must be >= 0") Long seed,
            @DecimalMin(value = "0", message = "must be >= 0")
            @DecimalMax(value = "1", inclusive = false, message = "must be < 1") Double warmupRatio,
            @DecimalMin(value = "0", message = "must be >= 0") @DecimalMax(value = "1", message = "must be <= 1")
            Double weightDecay,
            @Min(value = 1, message = "must be >= 1") @Max(value = 1000000, message = "must be <= 1000000") Integer maxSteps,
            @Min(value = 0, message = "must be >= 0 (0: only at the end)")
            @Max(value = 1000000, message = "must be <= 1000000") Integer checkpointEvery,
            @DecimalMin(value = "0", message = "must be >= 0") @DecimalMax(value = "0.5", message = "must be <= 0.5")
            Double validationFraction,
            @Min(value = 1, message = "must be >= 1") @Max(value = 10000, message = "must be <= 10000") Integer maxEvalRecords,
            @Min(value = 1, message = "must be >= 1") @Max(value = 1024, message = "must be <= 1024") Integer maxNewTokens,
            Boolean evalBase,
            @Min(value = 2, message = "must be >= 2") @Max(value = 10000000, message = "must be <= 10000000")
            Integer maxTrainRecords) {
    }
}
