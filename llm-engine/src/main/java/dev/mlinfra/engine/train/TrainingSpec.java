package dev.mlinfra.engine.train;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.mlinfra.engine.artifact.S3Settings;
import java.io.IOException;
import java.util.Map;

/**
 * The trainer contract: what to train on, from which base, with which hyperparameters, and
 * where results go. Unknown fields are rejected so that a misspelt hyperparameter fails fast.
 *
 * @param jobId     job id used in reports and events (optional)
 * @param team      owning team, carried into events (optional)
 * @param modelType base model type: {@code scout} or {@code maverick}
 * @param dataset   the dataset to train on
 * @param config    hyperparameters
 * @param output    output location: a local directory or {@code s3://bucket/prefix}
 * @param s3        object-store settings for s3:// locations (optional)
 * @param kafka     where to publish step reports (optional)
 * @param baseModelDir directory holding base models ({@code <dir>/<model_type>/}); defaults to the data dir
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TrainingSpec(
        String jobId,
        String team,
        String modelType,
        DatasetSpec dataset,
        Hyperparameters config,
        String output,
        S3Settings s3,
        KafkaSpec kafka,
        String baseModelDir) {

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    /**
     * @param location local path or {@code s3://bucket/key}
     * @param format   {@code jsonl}, {@code json} or {@code auto} (default)
     * @param sha256   the file's SHA-256 (hex) when the job was created (optional): a file that differs
     *                 fails the job, so that it never trains on other data than it was created for
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record DatasetSpec(String location, String format, String sha256) {
    }

    /**
     * @param bootstrapServers Kafka bootstrap servers
     * @param topic            topic of step reports (default {@code mlinfra.training.progress})
     * @param jobId            job id used as the record key (defaults to the spec's job id)
     * @param team             team carried in the event envelope (defaults to the spec's team)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record KafkaSpec(String bootstrapServers, String topic, String jobId, String team) {
        public KafkaSpec {
            topic = topic == null || topic.isBlank() ? "mlinfra.training.progress" : topic;
        }
    }

    /** Environment variable: the Kafka bootstrap servers of a spec whose {@code kafka} names none. */
    public static final String KAFKA_BOOTSTRAP_SERVERS_ENV = "MLINFRA_KAFKA_BOOTSTRAP_SERVERS";

    /** Parses and validates a spec. */
    public static TrainingSpec parse(byte[] json) {
        return parse(json, Map.of());
    }

    /**
     * Parses a spec, fills what it leaves out from {@code environment}, and validates it: a spec
     * without {@code s3} gets the object store of {@code MLINFRA_S3_*}, a {@code kafka} without
     * {@code bootstrap_servers} gets {@value #KAFKA_BOOTSTRAP_SERVERS_ENV}. A cluster keeps these
     * (credentials, cluster addresses) in a Secret and out of the spec; what the spec says wins.
     */
    public static TrainingSpec parse(byte[] json, Map<String, String> environment) {
        TrainingSpec spec = read(json);
        S3Settings s3 = spec.s3 != null ? spec.s3 : S3Settings.fromEnvironment(environment);
        KafkaSpec kafka = spec.kafka;
        String servers = environment.get(KAFKA_BOOTSTRAP_SERVERS_ENV);
        if (kafka != null && (kafka.bootstrapServers() == null || kafka.bootstrapServers().isBlank())
                && servers != null && !servers.isBlank()) {
            kafka = new KafkaSpec(servers, kafka.topic(), kafka.jobId(), kafka.team());
        }
        spec = new TrainingSpec(spec.jobId, spec.team, spec.modelType, spec.dataset, spec.config, spec.output, s3, kafka,
                spec.baseModelDir);
        spec.validate();
        return spec;
    }

    private static TrainingSpec read(byte[] json) {
        TrainingSpec spec;
        try {
            spec = JSON.readValue(json, TrainingSpec.class);
        } catch (UnrecognizedPropertyException e) {
            throw new IllegalArgumentException("unknown field '" + e.getPropertyName() + "' in " + path(e));
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IllegalArgumentException("invalid job spec: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new IllegalArgumentException("invalid job spec: " + e.getMessage());
        }
        return spec;
    }

    private static String path(UnrecognizedPropertyException e) {
        StringBuilder sb = new StringBuilder("job spec");
        for (var ref : e.getPath()) {
            if (ref.getFieldName() != null && !ref.getFieldName().equals(e.getPropertyName())) {
                sb.append(" / ").append(ref.getFieldName());
            }
        }
        return sb.toString();
    }

    /** The hyperparameters with defaults filled in. */
    public Hyperparameters hyperparameters() {
        return config == null ? Hyperparameters.defaults() : config;
    }

    /** The job id, or {@code local} when none was given. */
    public String effectiveJobId() {
        return jobId != null && !jobId.isBlank() ? jobId : kafka != null && kafka.jobId() != null ? kafka.jobId() : "local";
    }

    void validate() {
        if (modelType == null || !(modelType.equals("scout") || modelType.equals("maverick"))) {
            throw new IllegalArgumentException("model_type must be scout or maverick, got " + modelType);
        }
        if (dataset == null || dataset.location() == null || dataset.location().isBlank()) {
            throw new IllegalArgumentException("dataset.location is required");
        }
        if (output == null || output.isBlank()) {
            throw new IllegalArgumentException("output is required (a directory or s3://bucket/prefix)");
        }
        if (kafka != null && (kafka.bootstrapServers() == null || kafka.bootstrapServers().isBlank())) {
            throw new IllegalArgumentException("kafka.bootstrap_servers is required when kafka is given");
        }
        hyperparameters().validate();
    }

    public byte[] toJson() {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
