package dev.mlinfra.registry.mirror;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.commons.events.ModelEvents;
import dev.mlinfra.testsupport.Management;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Plays the registry's part for the mirror: publishes {@code mlinfra.models} events to Kafka as the
 * registry's outbox does (the envelope of commons, serialised by the application's mapper, keyed
 * by the model id), and reads the mirror's metrics from {@code /q/metrics}.
 */
final class ModelEventsHarness {

    static final String TEAM = "team-mirror";
    static final String SOURCE = "registry-service";
    static final Duration PATIENCE = Duration.ofSeconds(60);
    private static KafkaProducer<String, String> producer;

    private final ObjectMapper json;

    ModelEventsHarness(ObjectMapper json) {
        this.json = json;
    }

    static String newModelId() {
        return "mirror-" + UUID.randomUUID().toString().substring(0, 13);
    }

    static String mlflowName(String modelId) {
        return TEAM + "." + modelId;
    }

    static String artifact(String modelId, String version) {
        return "s3://mlinfra/training/" + TEAM + "/" + job(modelId, version) + "/adapter/";
    }

    static String job(String modelId, String version) {
        return "job-" + modelId.substring("mirror-".length()) + "-" + version;
    }

    // Events, as the registry publishes them

    EventEnvelope registered(String modelId, String version, String stage, Map<String, Object> metrics,
            Map<String, Object> reportedMetrics) {
        return envelope(ModelEvents.REGISTERED, modelId, new ModelEvents.Registered(modelId, "scout", version, stage,
                job(modelId, version), artifact(modelId, version), metrics, reportedMetrics,
                "Scout fine-tuned on GitOps issues", Instant.now()));
    }

    EventEnvelope registered(String modelId, String version) {
        return registered(modelId, version, "none", Map.of("eval_loss", 0.5, "accuracy", 0.8), Map.of());
    }

    EventEnvelope stageChanged(String modelId, String version, String from, String to) {
        return envelope(ModelEvents.STAGE_CHANGED, modelId, new ModelEvents.StageChanged(modelId, "scout", version, from,
                to, artifact(modelId, version), job(modelId, version), "key-0011223344556677", Instant.now()));
    }

    EventEnvelope deleted(String modelId, List<String> versions) {
        return envelope(ModelEvents.DELETED, modelId, new ModelEvents.Deleted(modelId, "scout", versions));
    }

    private EventEnvelope envelope(String type, String modelId, Object data) {
        return EventEnvelope.of(type, SOURCE, TEAM, modelId, json.valueToTree(data));
    }

    /** Publishes the events in order and returns once Kafka has them all. */
    void publish(EventEnvelope... events) {
        publish(List.of(events));
    }

    void publish(List<EventEnvelope> events) {
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (EventEnvelope e : events) {
            sent.add(producer().send(new ProducerRecord<>(ModelEvents.TOPIC, e.subject(), text(e))));
        }
        try {
            for (Future<RecordMetadata> f : sent) {
                f.get();
            }
        } catch (Exception e) {
            throw new IllegalStateException("Cannot publish to " + ModelEvents.TOPIC, e);
        }
    }

    private String text(EventEnvelope e) {
        try {
            return json.writeValueAsString(e);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
    }

    /** One producer for the test JVM, on the devstack's broker the application uses. */
    private static synchronized KafkaProducer<String, String> producer() {
        if (producer == null) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                    ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
            producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
        }
        return producer;
    }

    // Metrics

    /** The value of a metric in /q/metrics (Prometheus names), of the series with this tag; 0 when absent. */
    static double metric(String name, String tag, String value) {
        String page = Management.given().get("/q/metrics").then().statusCode(200).extract().asString();
        Pattern line = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*\\})?\\s+(\\S+)");
        Matcher m = line.matcher(page);
        while (m.find()) {
            String labels = m.group(1) == null ? "" : m.group(1);
            if (tag == null || labels.contains(tag + "=\"" + value + "\"")) {
                return Double.parseDouble(m.group(2));
            }
        }
        return 0;
    }

    static double mirrored(String type) {
        return metric("mlinfra_registry_mlflow_mirrored_total", "type", type);
    }

    static double failures(String kind) {
        return metric("mlinfra_registry_mlflow_failures_total", "kind", kind);
    }

    static double lagSeconds() {
        return metric("mlinfra_registry_mlflow_lag_seconds", null, null);
    }

    // Waiting

    /** Waits until the condition holds; fails with what {@code state} says then. */
    static void await(String what, BooleanSupplier condition, Supplier<Object> state) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("Waited " + PATIENCE.toSeconds() + " s for " + what + "; state: " + state.get());
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }
}
