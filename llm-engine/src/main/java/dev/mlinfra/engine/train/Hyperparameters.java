package dev.mlinfra.engine.train;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.mlinfra.engine.model.LoraConfig;

/**
 * Training hyperparameters: the public API's {@code config} fields plus the engine's own optional
 * ones. Every field may be omitted; {@link #defaults()} documents the values used then.
 *
 * @param learningRate       peak learning rate of AdamW (after warmup)
 * @param batchSize          sequences per optimizer step
 * @param epochs             passes over the training split
 * @param useLora            train a LoRA adapter (true) or all weights (false)
 * @param loraR              LoRA rank
 * @param loraAlpha          LoRA alpha
 * @param loraDropout        dropout on LoRA inputs
 * @param seed               seed of data order, split, adapter initialisation and dropout
 * @param maxSeqLen          longest training sequence in tokens (longer descriptions are cut)
 * @param warmupSteps        linear warmup steps (default: warmup_ratio of all steps)
 * @param warmupRatio        warmup as a fraction of all steps when warmup_steps is absent
 * @param minLrRatio         learning rate at the end of the cosine decay, as a fraction of the peak
 * @param weightDecay        decoupled weight decay
 * @param maxGradNorm        global gradient-norm clip
 * @param checkpointEvery    optimizer steps between checkpoints (0: only at the end)
 * @param validationFraction fraction of records held out for evaluation
 * @param maxNewTokens       generation limit during evaluation
 * @param maxEvalRecords     evaluate at most this many validation records (0: all)
 * @param evalBase           also evaluate the untrained base model, for comparison
 * @param threads            compute threads (0: one per core)
 * @param maxSteps           stop after this many optimizer steps (0: run all epochs)
 * @param loraModulesToSave  modules trained in full next to the LoRA matrices (default embed_tokens, lm_head)
 * @param maxTrainRecords    records kept from the dataset, a seeded uniform sample of all usable
 *                           ones, before the train/validation split (bounds the trainer's memory)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Hyperparameters(
        Double learningRate,
        Integer batchSize,
        Integer epochs,
        Boolean useLora,
        Integer loraR,
        Double loraAlpha,
        Double loraDropout,
        Long seed,
        Integer maxSeqLen,
        Integer warmupSteps,
        Double warmupRatio,
        Double minLrRatio,
        Double weightDecay,
        Double maxGradNorm,
        Integer checkpointEvery,
        Double validationFraction,
        Integer maxNewTokens,
        Integer maxEvalRecords,
        Boolean evalBase,
        Integer threads,
        Integer maxSteps,
        java.util.List<String> loraModulesToSave,
        Integer maxTrainRecords) {

    /** Default of {@code max_train_records}. */
    public static final int DEFAULT_MAX_TRAIN_RECORDS = 50_000;
    /** Largest {@code max_train_records}. */
    public static final int MAX_TRAIN_RECORDS = 10_000_000;

    /** All defaults. */
    public static Hyperparameters defaults() {
        return new Hyperparameters(null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, null, null, null);
    }

    public double lr() {
        return learningRate == null ? 2e-3 : learningRate;
    }

    public int batch() {
        return batchSize == null ? 8 : batchSize;
    }

    public int epochCount() {
        return epochs == null ? 3 : epochs;
    }

    public boolean lora() {
        return useLora == null || useLora;
    }

    public LoraConfig loraConfig() {
        return new LoraConfig(loraR == null ? 16 : loraR, loraAlpha == null ? 32 : loraAlpha,
                loraDropout == null ? 0.05 : loraDropout, null,
                loraModulesToSave == null ? java.util.List.of("embed_tokens", "lm_head") : loraModulesToSave);
    }

    public long seedValue() {
        return seed == null ? 42L : seed;
    }

    public int seqLen() {
        return maxSeqLen == null ? 768 : maxSeqLen;
    }

    public int warmup(int totalSteps) {
        if (warmupSteps != null) {
            return warmupSteps;
        }
        return (int) Math.ceil((warmupRatio == null ? 0.05 : warmupRatio) * totalSteps);
    }

    public double minLr() {
        return minLrRatio == null ? 0.1 : minLrRatio;
    }

    public double decay() {
        return weightDecay == null ? 0.0 : weightDecay;
    }

    public double gradClip() {
        return maxGradNorm == null ? 1.0 : maxGradNorm;
    }

    public int checkpointInterval() {
        return checkpointEvery == null ? 50 : checkpointEvery;
    }

    public double validation() {
        return validationFraction == null ? 0.1 : validationFraction;
    }

    public int generationLimit() {
        return maxNewTokens == null ? 256 : maxNewTokens;
    }

    public int evalLimit() {
        return maxEvalRecords == null ? 0 : maxEvalRecords;
    }

    public boolean compareWithBase() {
        return evalBase == null || evalBase;
    }

    public int threadCount() {
        return threads == null ? 0 : threads;
    }

    public int stepLimit() {
        return maxSteps == null ? 0 : maxSteps;
    }

    public int trainRecordLimit() {
        return maxTrainRecords == null ? DEFAULT_MAX_TRAIN_RECORDS : maxTrainRecords;
    }

    void validate() {
        check(lr() > 0 && lr() <= 1, "learning_rate must be in (0, 1]");
        check(batch() >= 1 && batch() <= 1024, "batch_size must be between 1 and 1024");
        check(epochCount() >= 1 && epochCount() <= 1000, "epochs must be between 1 and 1000");
        check(seqLen() >= 64 && seqLen() <= 4096, "max_seq_len must be between 64 and 4096");
        check(minLr() >= 0 && minLr() <= 1, "min_lr_ratio must be in [0, 1]");
        check(decay() >= 0, "weight_decay must be >= 0");
        check(gradClip() > 0, "max_grad_norm must be > 0");
        check(checkpointInterval() >= 0, "checkpoint_every must be >= 0");
        check(validation() >= 0 && validation() < 1, "validation_fraction must be in [0, 1)");
        check(generationLimit() >= 1, "max_new_tokens must be >= 1");
        check(evalLimit() >= 0 && stepLimit() >= 0 && threadCount() >= 0, "max_eval_records, max_steps and threads must be >= 0");
        check(trainRecordLimit() >= 2 && trainRecordLimit() <= MAX_TRAIN_RECORDS,
                "max_train_records must be between 2 and " + MAX_TRAIN_RECORDS);
        if (warmupSteps != null) {
            check(warmupSteps >= 0, "warmup_steps must be >= 0");
        }
        if (lora()) {
            try {
                loraConfig();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(e.getMessage());
            }
        }
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
