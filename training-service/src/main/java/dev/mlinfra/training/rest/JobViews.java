package dev.mlinfra.training.rest;

import com.fasterxml.jackson.annotation.JsonInclude;

import dev.mlinfra.training.JobStatus;
import dev.mlinfra.training.TrainingCheckpoint;
import dev.mlinfra.training.TrainingJob;
import dev.mlinfra.training.TrainingJobEvent;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The API records of training jobs, as the contract spells them (and what it leaves open, named alike). */
public final class JobViews {

    private JobViews() {
    }

    /** The contract's progress, with throughput, the time left and how far in percent. */
    public record ProgressView(Integer currentEpoch, Integer totalEpochs, int currentStep, int totalSteps, Double loss,
            Double learningRate, Double tokensPerSecond, Long etaSeconds, Integer percentComplete, String phase) {
    }

    public record ArtifactsView(String output, String adapter, String model, String metrics) {
    }

    /** A job: the contract's fields, then the ones for its later stages. */
    public record JobView(String jobId, JobStatus status, Instant createdAt, Instant startedAt, Instant finishedAt,
            String modelType, String datasetId, String experimentName, String description, Map<String, Object> config,
            Integer queuePosition, ProgressView progress, Map<String, Object> metrics, ArtifactsView artifacts,
            String error) {
    }

    /** A job in a list: the contract's summary fields. */
    public record JobSummary(String jobId, JobStatus status, Instant createdAt, String modelType, String datasetId,
            String experimentName) {
    }

    public record Cancelled(String jobId, JobStatus status, String message) {
    }

    public record EventView(long id, String type, String message, Map<String, Object> data, Instant createdAt) {
    }

    /** {@code loss} is null where the trainer reported none for the step; always present. */
    public record CheckpointView(int step, @JsonInclude(JsonInclude.Include.ALWAYS) Double loss, String location,
            Instant createdAt) {
    }

    /** The order metrics and config are shown in (the database keeps JSON objects without an order). */
    private static final List<String> METRICS_ORDER = List.of("eval_loss", "accuracy", "f1", "trajectory_similarity",
            "answer_format", "num_examples", "train_loss", "steps", "labels", "base");
    private static final List<String> CONFIG_ORDER = Arrays.stream(NewJobRequest.JobConfig.class.getRecordComponents())
            .map(c -> snake(c.getName())).toList();

    static Map<String, Object> ordered(Map<String, Object> values, List<String> order) {
        if (values == null) {
            return null;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        order.stream().filter(values::containsKey).forEach(k -> out.put(k, values.get(k)));
        values.keySet().stream().filter(k -> !out.containsKey(k)).sorted().forEach(k -> out.put(k, values.get(k)));
        out.replaceAll((k, v) -> v instanceof Map<?, ?> nested ? ordered(castMap(nested), order) : v);
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castMap(Map<?, ?> map) {
        return (Map<String, Object>) map;
    }

    private static String snake(String name) {
        return name.replaceAll("([A-Z])", "_$1").toLowerCase(java.util.Locale.ROOT);
    }

    public static JobView full(TrainingJob j, Integer queuePosition) {
        TrainingJob.Progress p = j.progress;
        boolean showProgress = p != null && j.status != JobStatus.QUEUED;
        return new JobView(j.jobId, j.status, j.createdAt, j.startedAt, j.finishedAt, j.modelType, j.datasetId,
                j.experimentName, j.description, ordered(j.config, CONFIG_ORDER), j.status == JobStatus.QUEUED ? queuePosition : null,
                showProgress ? new ProgressView(p.currentEpoch(), p.totalEpochs(), p.currentStep(), p.totalSteps(), p.loss(),
                        p.learningRate(), p.tokensPerSecond(), j.status.terminal() ? null : p.etaSeconds(),
                        p.percentComplete(), j.status.terminal() ? null
                                : p.phase() == null ? TrainingJob.Progress.TRAINING : p.phase()) : null,
                j.status == JobStatus.COMPLETED ? ordered(j.metrics, METRICS_ORDER) : null,
                j.artifacts == null ? null : new ArtifactsView(j.artifacts.output(), j.artifacts.adapter(), j.artifacts.model(),
                        j.artifacts.metrics()),
                j.status == JobStatus.FAILED ? j.error : null);
    }

    public static JobSummary summary(TrainingJob j) {
        return new JobSummary(j.jobId, j.status, j.createdAt, j.modelType, j.datasetId, j.experimentName);
    }

    public static EventView event(TrainingJobEvent e) {
        return new EventView(e.id, e.type, e.message, e.data, e.createdAt);
    }

    public static CheckpointView checkpoint(TrainingCheckpoint c) {
        return new CheckpointView(c.step, c.loss, c.location, c.createdAt);
    }
}
