package dev.mlinfra.infra;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.commons.events.GpuCapacity;
import dev.mlinfra.commons.json.JsonSetup;
import dev.mlinfra.testsupport.Devstack;
import dev.mlinfra.testsupport.TestIdentities;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Drives the ledger as a requester does: publishes {@code gpu.requested} and {@code gpu.released}
 * on the real topic, reads the internal API and the topic back. It remembers what a test asked for
 * and releases it all in {@link #releaseAll()}, so every test leaves the pools empty.
 */
public final class LedgerHarness {

    public static final String REQUESTER = "training-service";
    private static final Duration PATIENCE = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = JsonSetup.apply(new ObjectMapper());
    private static KafkaProducer<String, String> producer;

    /** What the test asked for, by request id: the team (to release it at the end). */
    private final Map<String, String> asked = new HashMap<>();

    public static String newId() {
        return "job-" + UUID.randomUUID().toString().substring(0, 13);
    }

    /** The ledger's topic (tests keep the default of {@code mlinfra.gpu.topic}). */
    private static String topic() {
        return GpuCapacity.TOPIC;
    }

    private static String bootstrapServers() {
        return Devstack.kafkaBootstrapServers();
    }

    public static RequestSpecification as(String team) {
        return given().header("x-mlinfra-identity", TestIdentities.token(team, "read", "write"));
    }

    // Events

    public static EventEnvelope requested(String requestId, String team, String modelType) {
        return EventEnvelope.of(GpuCapacity.REQUESTED, REQUESTER, team, requestId,
                JSON.valueToTree(new GpuCapacity.Requested(requestId, REQUESTER, team, modelType)));
    }

    public static EventEnvelope released(String requestId, String team, String reason) {
        return EventEnvelope.of(GpuCapacity.RELEASED, REQUESTER, team, requestId,
                JSON.valueToTree(new GpuCapacity.Released(requestId, REQUESTER, team, reason)));
    }

    /** Asks for capacity (and remembers to release it at the end). */
    public EventEnvelope request(String requestId, String team, String modelType) {
        asked.put(requestId, team);
        EventEnvelope e = requested(requestId, team, modelType);
        publish(e);
        return e;
    }

    public EventEnvelope release(String requestId, String team) {
        asked.putIfAbsent(requestId, team);
        EventEnvelope e = released(requestId, team, "job finished");
        publish(e);
        return e;
    }

    public static void publish(EventEnvelope event) {
        publish(event.subject(), json(event));
    }

    /** Publishes a record with this key, as Kafka carries it (the key decides the partition, and so the order). */
    public static void publish(String key, String value) {
        try {
            producer().send(new ProducerRecord<>(topic(), key, value)).get();
        } catch (Exception e) {
            throw new IllegalStateException("Cannot publish to " + topic(), e);
        }
    }

    /** One producer for the test JVM (its sender thread is a daemon; the devstack's broker outlives the tests). */
    private static synchronized KafkaProducer<String, String> producer() {
        if (producer == null) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
        }
        return producer;
    }

    public static String json(EventEnvelope event) {
        try {
            return JSON.writeValueAsString(event);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Waits until every record published with {@code key} so far has been applied: publishes a
     * release of a fresh id under the same key (so it lands behind them) and waits for its
     * tombstone. Records are applied one after the other, so what came before is done then.
     */
    public void barrier(String key, String team) {
        String marker = "marker-" + UUID.randomUUID();
        publish(key, json(released(marker, team, "barrier")));
        awaitState(team, marker, s -> "released".equals(s.getString("status")));
    }

    /** Every event of the topic with this key, from the beginning up to now, once the outbox has published what it holds. */
    public static List<JsonNode> eventsOf(String key) throws Exception {
        awaitOutboxDrained();
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<JsonNode> found = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic()).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
                if (System.nanoTime() > deadline) {
                    fail("Could not read " + topic() + " to its end");
                }
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    if (key.equals(r.key())) {
                        found.add(JSON.readTree(r.value()));
                    }
                }
            }
        }
        return found;
    }

    /** The types of the ledger's own events (grants, denials) about this request, in order. */
    public static List<String> answersTo(String requestId) throws Exception {
        return eventsOf(requestId).stream().filter(e -> "infra-service".equals(e.get("source").asText()))
                .map(e -> e.get("type").asText()).toList();
    }

    private static void awaitOutboxDrained() throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        try (Connection db = Devstack.connect("infra"); Statement st = db.createStatement()) {
            while (true) {
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM outbox_event WHERE published_at IS NULL")) {
                    rs.next();
                    if (rs.getLong(1) == 0) {
                        return;
                    }
                }
                if (System.nanoTime() > deadline) {
                    fail("The outbox still holds unpublished events");
                }
                Thread.sleep(100);
            }
        }
    }

    // Internal API

    public static Response get(String team, String requestId) {
        return as(team).get("/internal/v1/gpu/requests/" + requestId);
    }

    /** Polls the request until the condition holds, and returns its state then. */
    public static JsonPath awaitState(String team, String requestId, Predicate<JsonPath> condition) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        String last = "(nothing)";
        while (System.nanoTime() < deadline) {
            Response r = get(team, requestId);
            last = r.statusCode() + " " + r.asString();
            if (r.statusCode() == 200 && condition.test(r.jsonPath())) {
                return r.jsonPath();
            }
            sleep(100);
        }
        return fail("Request " + requestId + " of " + team + " never reached the expected state; last: " + last);
    }

    public static JsonPath awaitStatus(String team, String requestId, String status) {
        return awaitState(team, requestId, s -> status.equals(s.getString("status")));
    }

    public static JsonPath awaitWaiting(String team, String requestId, int position) {
        JsonPath s = awaitState(team, requestId, j -> "waiting".equals(j.getString("status"))
                && Integer.valueOf(position).equals(j.get("queue_position")));
        assertEquals(position, s.getInt("queue_position"));
        return s;
    }

    /** The pool as the internal API shows it. */
    public static Map<String, Object> pool(String name) {
        List<Map<String, Object>> pools = as("team-ops").get("/internal/v1/gpu/pools").then().statusCode(200)
                .extract().jsonPath().getList("pools");
        return pools.stream().filter(p -> name.equals(p.get("name"))).findFirst()
                .orElseGet(() -> fail("No pool '" + name + "' in " + pools));
    }

    /** Fails unless the pool holds nothing: what an earlier test left would skew queue positions. */
    public static void assertIdle(String pool) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        Map<String, Object> p = pool(pool);
        while (((Number) p.get("allocated")).intValue() != 0 || ((Number) p.get("waiting")).intValue() != 0) {
            if (System.nanoTime() > deadline) {
                fail("Pool '" + pool + "' is not idle: " + p);
            }
            sleep(100);
            p = pool(pool);
        }
    }

    /** Releases everything the test asked for and waits until none of it waits or holds capacity. */
    public void releaseAll() {
        Map<String, String> open = asked.entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
        open.forEach((id, team) -> publish(released(id, team, "test over")));
        open.forEach((id, team) -> awaitState(team, id,
                s -> !"waiting".equals(s.getString("status")) && !"granted".equals(s.getString("status"))));
        asked.clear();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
