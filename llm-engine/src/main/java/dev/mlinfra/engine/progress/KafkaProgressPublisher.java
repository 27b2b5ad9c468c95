package dev.mlinfra.engine.progress;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes step reports (and milestones) to Kafka in the platform's event envelope:
 * {@code {id, type, source, time, team, subject, data}} with type {@code training.step}
 * (milestones: {@code training.<event>}), subject and record key = the job id, data = the report.
 * Sending is asynchronous; an unreachable broker never stops training.
 */
public final class KafkaProgressPublisher implements ProgressListener {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaProgressPublisher.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SOURCE = "llm-engine";

    private final KafkaProducer<String, String> producer;
    private final String topic;
    private final String jobId;
    private final String team;

    public KafkaProgressPublisher(String bootstrapServers, String topic, String jobId, String team) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "llm-engine-" + jobId);
        this.producer = new KafkaProducer<>(props);
        this.topic = topic;
        this.jobId = jobId;
        this.team = team;
    }

    @Override
    public void onStep(StepReport report) {
        send("training.step", JSON.valueToTree(report));
    }

    @Override
    public void onEvent(String event, Map<String, Object> details) {
        ObjectNode data = JSON.valueToTree(details);
        data.put("job_id", jobId);
        send("training." + event, data);
    }

    private void send(String type, com.fasterxml.jackson.databind.JsonNode data) {
        ObjectNode envelope = JSON.createObjectNode();
        envelope.put("id", UUID.randomUUID().toString());
        envelope.put("type", type);
        envelope.put("source", SOURCE);
        envelope.put("time", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        if (team != null) {
            envelope.put("team", team);
        } else {
            envelope.putNull("team");
        }
        envelope.put("subject", jobId);
        envelope.set("data", data);
        try {
            producer.send(new ProducerRecord<>(topic, jobId, envelope.toString()), (meta, error) -> {
                if (error != null) {
                    LOG.warn("progress event {} not delivered: {}", type, error.toString());
                }
            });
        } catch (RuntimeException e) {
            LOG.warn("progress event {} not sent: {}", type, e.toString());
        }
    }

    @Override
    public void close() {
        producer.close(java.time.Duration.of(10, ChronoUnit.SECONDS));
    }
}
