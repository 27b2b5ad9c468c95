package dev.mlinfra.engine.artifact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.engine.TestEngine;
import dev.mlinfra.engine.progress.KafkaProgressPublisher;
import dev.mlinfra.engine.progress.ProgressListener;
import dev.mlinfra.engine.safetensors.Safetensors;
import dev.mlinfra.engine.train.CancellationToken;
import dev.mlinfra.engine.train.Trainer;
import dev.mlinfra.engine.train.TrainingSpec;
import dev.mlinfra.testsupport.Devstack;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Against the real S3 server and Kafka broker of the devstack. */
class ObjectStoreAndKafkaTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static S3Settings s3;

    @BeforeAll
    static void start() {
        Devstack.start(Set.of("s3", "kafka"));
        s3 = new S3Settings(Devstack.s3Endpoint(), Devstack.s3AccessKey(), Devstack.s3SecretKey(), Devstack.s3Region());
    }

    @Test
    void s3StoreWritesReadsAndListsBelowItsPrefix() throws Exception {
        ArtifactStore store = ArtifactStore.open("s3://engine-test/run-" + UUID.randomUUID() + "/out", s3);
        store.put("adapter/a.bin", new byte[] {1, 2, 3});
        store.put("eval/metrics.json", "{}".getBytes(StandardCharsets.UTF_8));
        assertArrayEquals(new byte[] {1, 2, 3}, store.get("adapter/a.bin"));
        assertNull(store.get("adapter/missing"));
        assertEquals(List.of("adapter/a.bin", "eval/metrics.json"), store.list(""));
        assertEquals(List.of("adapter/a.bin"), store.list("adapter"));
    }

    @Test
    void aJobReadsItsDatasetFromS3WritesArtifactsThereAndPublishesSteps() throws Exception {
        String bucket = "engine-test";
        String prefix = "job-" + UUID.randomUUID();
        List<String> lines = Files.readAllLines(Paths.get(System.getProperty("mlinfra.root", "../"),
                "samples", "datasets", "gitops-issues.jsonl"));
        ArtifactStore.open("s3://" + bucket + "/" + prefix, s3)
                .put("data.jsonl", String.join("\n", lines.subList(0, 12)).getBytes(StandardCharsets.UTF_8));
        String topic = "mlinfra.training.progress";
        String spec = """
                {"job_id": "%s", "team": "t1", "model_type": "scout",
                 "dataset": {"location": "s3://%s/%s/data.jsonl"},
                 "config": {"batch_size": 4, "max_steps": 2, "max_seq_len": 384, "max_eval_records": 1,
                            "max_new_tokens": 4, "eval_base": false, "checkpoint_every": 1},
                 "output": "s3://%s/%s/out", "base_model_dir": "%s",
                 "s3": {"endpoint": "%s", "access_key": "%s", "secret_key": "%s"},
                 "kafka": {"bootstrap_servers": "%s", "topic": "%s"}}
                """.formatted(prefix, bucket, prefix, bucket, prefix, TestEngine.targetDir().resolve("models"),
                s3.endpoint(), s3.accessKey(), s3.secretKey(), Devstack.kafkaBootstrapServers(), topic);
        TrainingSpec parsed = TrainingSpec.parse(spec.getBytes(StandardCharsets.UTF_8));
        TestEngine.engine();
        try (ProgressListener kafka = new KafkaProgressPublisher(parsed.kafka().bootstrapServers(), topic, prefix, "t1")) {
            new Trainer(parsed, kafka, new CancellationToken()).run();
        }

        ArtifactStore out = ArtifactStore.open("s3://" + bucket + "/" + prefix + "/out", s3);
        assertTrue(Safetensors.read(out.get("adapter/adapter_model.safetensors")).tensors().size() > 10);
        assertEquals("LORA", JSON.readTree(out.get("adapter/adapter_config.json")).path("peft_type").asText());
        // long enough for the held-out record's answer to be scored (at 128 its prompt filled it: no eval_loss)
        assertTrue(JSON.readTree(out.get("eval/metrics.json")).has("eval_loss"));
        assertTrue(out.list("checkpoints").contains("checkpoints/step-1/trainer_state.json"));

        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, Devstack.kafkaBootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<JsonNode> steps = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 30_000;
            while (steps.size() < 2 && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    JsonNode event = JSON.readTree(r.value());
                    if (prefix.equals(r.key()) && "training.step".equals(event.path("type").asText())) {
                        steps.add(event);
                    }
                }
            }
        }
        assertEquals(2, steps.size());
        JsonNode first = steps.get(0);
        assertEquals("llm-engine", first.path("source").asText());
        assertEquals("t1", first.path("team").asText());
        assertEquals(prefix, first.path("subject").asText());
        assertEquals(1, first.path("data").path("step").asInt());
        assertEquals(2, first.path("data").path("total_steps").asInt());
        assertTrue(first.path("data").has("tokens_per_second"));
    }
}
