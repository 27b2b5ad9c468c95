package dev.mlinfra.inference.rest;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.commons.events.ModelEvents;
import dev.mlinfra.commons.storage.ObjectStore;
import dev.mlinfra.engine.data.PromptTemplateFile;
import dev.mlinfra.engine.model.LlamaModel;
import dev.mlinfra.engine.model.LoraConfig;
import dev.mlinfra.engine.model.ModelConfig;
import dev.mlinfra.engine.model.ModelStore;
import dev.mlinfra.engine.safetensors.Safetensors;
import dev.mlinfra.engine.safetensors.Tensor;
import dev.mlinfra.testsupport.TestIdentities;
import io.restassured.specification.RequestSpecification;
import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * What the rest of the platform gives inference-service, made by the tests as the platform makes it:
 * LoRA adapters in the object store in the trainer's layout (PEFT files and the trainer's
 * prompt_template.json), and the registry's {@code mlinfra.models} events on Kafka.
 */
final class ServingFixtures {

    static final Duration PATIENCE = Duration.ofSeconds(240);
    private static KafkaProducer<String, String> producer;

    private final ObjectStore store;
    private final ObjectMapper json;

    ServingFixtures(ObjectStore store, ObjectMapper json) {
        this.store = store;
        this.json = json;
    }

    static String newModelId() {
        return "m-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static RequestSpecification as(String team) {
        return given().header("x-mlinfra-identity", TestIdentities.token(team, "read", "write"));
    }

    /** The name of a team's model's adapter on its server, as its deployment says. */
    static String servedName(String team, String modelId) {
        return as(team).get("/v1/deployments/" + modelId).then().statusCode(200).extract().jsonPath().getString("served_name");
    }

    /**
     * Writes a random scout LoRA adapter (seeded, large enough to change greedy output) and, unless
     * {@code withTemplate} is false, the trainer's prompt template; returns its {@code s3://} folder.
     */
    String adapter(String team, String job, long seed, boolean withTemplate) throws Exception {
        return adapter(team, job, seed, withTemplate, 0.3);
    }

    /** The same with weights of standard deviation {@code std} (0: the adapter changes nothing of the base model). */
    String adapter(String team, String job, long seed, boolean withTemplate, double std) throws Exception {
        ModelConfig config = ModelConfig.builtin("scout");
        LoraConfig lora = new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj", "down_proj"));
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Random random = new Random(seed);
        List<String> modules = new ArrayList<>();
        LlamaModel.weightShapes(config).forEach((weight, shape) -> {
            String module = weight.substring(0, weight.length() - ".weight".length());
            if (!weight.endsWith("_proj.weight") || !lora.targets(module)) {
                return;
            }
            modules.add(module);
            tensors.put("base_model.model." + module + ".lora_A.weight", random(random, new long[] {4, shape[1]}, std));
            tensors.put("base_model.model." + module + ".lora_B.weight", random(random, new long[] {shape[0], 4}, std));
        });
        String prefix = "training/" + team + "/" + job + "/adapter/";
        put(prefix + ModelStore.ADAPTER_WEIGHTS, Safetensors.write(tensors, Map.of("format", "pt")));
        put(prefix + ModelStore.ADAPTER_CONFIG, ModelStore.adapterConfigJson(config, lora, modules));
        if (withTemplate) {
            put(prefix + PromptTemplateFile.FILE, PromptTemplateFile.current().toJson());
        }
        return store.uri(prefix);
    }

    /**
     * Rewrites the config of an adapter written by {@link #adapter} as if it had been fine-tuned from
     * another base model than the servers run: a server refuses to load it from then on.
     */
    void fineTunedFrom(String team, String job, String base) throws Exception {
        String key = "training/" + team + "/" + job + "/adapter/" + ModelStore.ADAPTER_CONFIG;
        com.fasterxml.jackson.databind.node.ObjectNode config;
        try (java.io.InputStream in = store.get(key)) {
            config = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(in);
        }
        config.put(ModelStore.BASE, base);
        put(key, json.writeValueAsBytes(config));
    }

    private void put(String key, byte[] bytes) {
        store.put(key, new ByteArrayInputStream(bytes), bytes.length, "application/octet-stream");
    }

    private static Tensor random(Random random, long[] shape, double std) {
        float[] v = new float[(int) (shape[0] * shape[1])];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextGaussian() * std);
        }
        return Tensor.ofFloats(shape, v);
    }

    // ------------------------------------------------------------------ events, as the registry publishes them

    void registered(String team, String modelId, String version, String stage, String artifact) {
        registered(team, modelId, "scout", version, stage, artifact);
    }

    void registered(String team, String modelId, String modelType, String version, String stage, String artifact) {
        publish(team, modelId, ModelEvents.REGISTERED, new ModelEvents.Registered(modelId, modelType, version, stage,
                "train-" + modelId, artifact, Map.of("eval_loss", 1.2), Map.of(), "test model", Instant.now()));
    }

    void stageChanged(String team, String modelId, String version, String from, String to, String artifact) {
        stageChanged(team, modelId, version, from, to, artifact, "key-0011223344556677");
    }

    /** {@code changedBy} null: a change the registry made itself (the archiving of the version a promotion replaces). */
    void stageChanged(String team, String modelId, String version, String from, String to, String artifact, String changedBy) {
        publish(team, modelId, ModelEvents.STAGE_CHANGED, new ModelEvents.StageChanged(modelId, "scout", version, from, to,
                artifact, "train-" + modelId, changedBy, Instant.now()));
    }

    void deleted(String team, String modelId, List<String> versions) {
        publish(team, modelId, ModelEvents.DELETED, new ModelEvents.Deleted(modelId, "scout", versions));
    }

    private void publish(String team, String modelId, String type, Object data) {
        EventEnvelope e = EventEnvelope.of(type, "registry-service", team, modelId, json.valueToTree(data));
        try {
            producer().send(new ProducerRecord<>(ModelEvents.TOPIC, modelId, json.writeValueAsString(e))).get();
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        } catch (Exception ex) {
            throw new IllegalStateException("Cannot publish to " + ModelEvents.TOPIC, ex);
        }
    }

    private static synchronized KafkaProducer<String, String> producer() {
        if (producer == null) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                    ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
        }
        return producer;
    }

    /** The types of the mlinfra.serving events about a model, in order (read from the start of the topic). */
    List<String> servingEvents(String modelId) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<String> types = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of("mlinfra.serving"));
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    if (modelId.equals(r.key())) {
                        try {
                            types.add(json.readTree(r.value()).path("type").asText());
                        } catch (JsonProcessingException e) {
                            throw new IllegalStateException(e);
                        }
                    }
                }
            }
        }
        return types;
    }

    // ------------------------------------------------------------------ waiting

    /** The deployment's state, or "absent". */
    static String state(String team, String modelId) {
        var r = as(team).get("/v1/deployments/" + modelId);
        return r.statusCode() == 404 ? "absent" : r.jsonPath().getString("state");
    }

    static void awaitState(String team, String modelId, String state) {
        await("deployment of " + modelId + " " + state, () -> state.equals(state(team, modelId)),
                () -> as(team).get("/v1/deployments/" + modelId).asString());
    }

    static void await(String what, BooleanSupplier condition, Supplier<Object> state) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("Waited " + PATIENCE.toSeconds() + " s for " + what + "; state: " + state.get());
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }
}
