package dev.mlinfra.engine.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A spec without cluster settings gets them from the environment (a TrainJob's Secret); what the spec says wins. */
class TrainingSpecEnvironmentTest {

    private static final Map<String, String> CLUSTER = Map.of(
            "MLINFRA_S3_ENDPOINT", "http://minio.mlinfra:9000", "MLINFRA_S3_ACCESS_KEY", "trainer",
            "MLINFRA_S3_SECRET_KEY", "s3cret", "MLINFRA_S3_REGION", "eu-west-1",
            "MLINFRA_KAFKA_BOOTSTRAP_SERVERS", "kafka.mlinfra:9092");

    private static byte[] spec(String extra) {
        return ("{\"job_id\": \"train-7\", \"team\": \"platform\", \"model_type\": \"scout\","
                + " \"dataset\": {\"location\": \"s3://datasets/d.jsonl\"}, \"output\": \"s3://artifacts/training/platform/train-7/\""
                + extra + "}").getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aSpecWithoutObjectStoreOrKafkaAddressTakesThemFromTheEnvironment() {
        TrainingSpec spec = TrainingSpec.parse(spec(", \"kafka\": {\"topic\": \"mlinfra.training.progress\", \"job_id\": \"train-7\"}"),
                CLUSTER);
        assertEquals("http://minio.mlinfra:9000", spec.s3().endpoint());
        assertEquals("trainer", spec.s3().accessKey());
        assertEquals("s3cret", spec.s3().secretKey());
        assertEquals("eu-west-1", spec.s3().region());
        assertEquals("kafka.mlinfra:9092", spec.kafka().bootstrapServers());
        assertEquals("mlinfra.training.progress", spec.kafka().topic());
        assertEquals("train-7", spec.kafka().jobId());
    }

    @Test
    void whatTheSpecSaysWinsOverTheEnvironment() {
        TrainingSpec spec = TrainingSpec.parse(spec(", \"s3\": {\"endpoint\": \"http://127.0.0.1:9000\", \"access_key\": \"a\","
                + " \"secret_key\": \"b\"}, \"kafka\": {\"bootstrap_servers\": \"127.0.0.1:9092\"}"), CLUSTER);
        assertEquals("http://127.0.0.1:9000", spec.s3().endpoint());
        assertEquals("127.0.0.1:9092", spec.kafka().bootstrapServers());
    }

    @Test
    void withoutEitherAKafkaSectionStillNeedsItsServers() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainingSpec.parse(spec(", \"kafka\": {\"topic\": \"t\"}"), Map.of()));
        assertTrue(e.getMessage().contains("kafka.bootstrap_servers"), e.getMessage());
        assertNull(TrainingSpec.parse(spec(""), Map.of()).s3(), "no object store named anywhere: local paths only");
    }
}
