package dev.mlinfra.datasets.messaging;

import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.outbox.OutboxRelay;
import dev.mlinfra.commons.storage.ObjectStore;
import dev.mlinfra.datasets.rest.DatasetApiTest;
import dev.mlinfra.testsupport.Devstack;
import dev.mlinfra.testsupport.DevstackResource;
import dev.mlinfra.testsupport.TestIdentities;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/** Events of the dataset lifecycle, the outbox under a broker outage, and expiry of unused upload URLs. */
@QuarkusTest
@TestProfile(DatasetEventsTest.ShortExpiry.class)
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "datasets"))
class DatasetEventsTest {

    public static class ShortExpiry implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // Long enough for a create and an upload in a row on a busy machine, short enough to watch one expire.
            // No heartbeat while a test runs: a test that ages an upload's row is not overtaken by one.
            return Map.of("mlinfra.datasets.upload-expiry", "PT5S", "mlinfra.datasets.sweep-interval", "1s",
                    "mlinfra.datasets.deletion-grace", "PT2S", "mlinfra.datasets.heartbeat-interval", "PT10M");
        }
    }

    private final ObjectMapper json = new ObjectMapper();

    @Inject
    ObjectStore store;

    /** Reads mlinfra.datasets from the start until the events of {@code subject} of the given types arrived. */
    private List<JsonNode> eventsOf(String subject, int expected, Duration within) throws Exception {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<JsonNode> found = new ArrayList<>();
        long deadline = System.nanoTime() + within.toNanos();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of("mlinfra.datasets"));
            while (found.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    if (subject.equals(r.key())) {
                        found.add(json.readTree(r.value()));
                    }
                }
            }
        }
        return found;
    }

    @Test
    void readyAndDeletedAreAnnouncedWithTheEnvelope() throws Exception {
        String name = DatasetApiTest.name();
        JsonPath created = DatasetApiTest.create("team-e", name, "jsonl");
        DatasetApiTest.upload("team-e", created, DatasetApiTest.RECORD.getBytes(StandardCharsets.UTF_8));
        DatasetApiTest.as("team-e").delete("/v1/datasets/" + name).then().statusCode(200);
        List<JsonNode> events = eventsOf(name, 2, Duration.ofSeconds(30));
        assertEquals(List.of("dataset.ready", "dataset.deleted"), events.stream().map(e -> e.get("type").asText()).toList());
        JsonNode ready = events.get(0);
        assertEquals("team-e", ready.get("team").asText());
        assertEquals(name, ready.get("subject").asText());
        assertEquals("dataset-service", ready.get("source").asText());
        assertTrue(ready.get("time").asText().endsWith("Z"));
        assertEquals(1, ready.get("data").get("num_examples").asInt());
        assertTrue(ready.get("data").get("object_uri").asText().startsWith("s3://"));
    }

    @Test
    void anEventStagedWhileKafkaIsDownArrivesOnceItIsBack() throws Exception {
        String name = DatasetApiTest.name();
        // The broker stops first (a creation stages no event), so that its shutdown does not eat the upload's time.
        Devstack.stopKafka();
        try {
            JsonPath created = DatasetApiTest.create("team-e", name, "jsonl");
            JsonPath failed = DatasetApiTest.upload("team-e", created, "{broken".getBytes(StandardCharsets.UTF_8));
            assertEquals("failed", failed.getString("status"), "the state change commits while the broker is down");
            Thread.sleep(2000);
        } finally {
            Devstack.startKafka();
        }
        List<JsonNode> events = eventsOf(name, 1, Duration.ofSeconds(60));
        assertEquals(1, events.size(), "the event waited in the outbox and was published after the broker returned");
        assertEquals("dataset.failed", events.get(0).get("type").asText());
        assertTrue(events.get(0).get("data").get("reason").asText().contains("malformed JSON"));
    }

    @Test
    void aDeletionWhileTheObjectStoreIsAwayHoldsAndTheSweeperFinishesItOnceTheStoreIsBack() throws Exception {
        String name = DatasetApiTest.name();
        JsonPath created = DatasetApiTest.create("team-e", name, "jsonl");
        DatasetApiTest.upload("team-e", created, DatasetApiTest.RECORD.getBytes(StandardCharsets.UTF_8));
        Devstack.stopS3();
        try {
            DatasetApiTest.as("team-e").delete("/v1/datasets/" + name).then().statusCode(200)
                    .body("status", equalTo("deleted")).body("message", containsString("once the object store answers"));
            DatasetApiTest.as("team-e").get("/v1/datasets/" + name).then().statusCode(404);
            DatasetApiTest.as("team-e").delete("/v1/datasets/" + name).then().statusCode(404);
            // ready was announced (however long the relay took on a busy machine), deleted not yet
            assertEquals(List.of("dataset.ready"), types(eventsOf(name, 1, Duration.ofSeconds(30))));
            assertEquals(List.of("dataset.ready"), types(eventsOf(name, 2, Duration.ofSeconds(5))),
                    "deleted is announced once the file and the row are gone");
        } finally {
            Devstack.startS3();
        }
        assertEquals(List.of("dataset.ready", "dataset.deleted"), types(eventsOf(name, 2, Duration.ofSeconds(60))));
        // the row is gone too: the name is free again
        DatasetApiTest.create("team-e", name, "jsonl");
        // An upload on a connection from before the restart fails once (and the dead connections go):
        // the tests after this one upload again.
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!uploads()) {
            assertTrue(System.nanoTime() < deadline, "the restarted object store takes no uploads");
            Thread.sleep(200);
        }
    }

    private boolean uploads() {
        try {
            store.put("tests/after-a-restart", new ByteArrayInputStream(new byte[] {1}), 1, "application/octet-stream");
            return true;
        } catch (ObjectStore.ObjectStoreException e) {
            return false;
        }
    }

    @Test
    void anUploadTheSweeperGaveUpWhileItWasReceivedStaysFailed() throws Exception {
        String name = DatasetApiTest.name();
        String path = DatasetApiTest.uploadPath(DatasetApiTest.create("team-e", name, "jsonl"));
        byte[] record = (DatasetApiTest.RECORD + "\n").getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket("127.0.0.1", RestAssured.port);
                Connection db = Devstack.connect("datasets"); Statement st = db.createStatement()) {
            socket.setSoTimeout(60_000);
            OutputStream out = socket.getOutputStream();
            out.write(("PUT " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nx-mlinfra-identity: "
                    + TestIdentities.token("team-e", "write") + "\r\nContent-Type: application/x-ndjson\r\nContent-Length: "
                    + (2L * record.length) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(record);
            out.flush();
            awaitRow(st, "SELECT count(*) FROM dataset WHERE dataset_id = '" + name + "' AND phase = 'receiving'");
            // As if this service had stopped reporting progress for longer than the stall timeout.
            st.executeUpdate("UPDATE dataset SET updated_at = now() - interval '1 hour' WHERE dataset_id = '" + name + "'");
            awaitRow(st, "SELECT count(*) FROM dataset WHERE dataset_id = '" + name + "' AND status = 'failed'");
            out.write(record);
            out.flush();
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(answer.startsWith("HTTP/1.1 409"), answer);
            assertTrue(answer.contains("given up"), answer);
        }
        DatasetApiTest.as("team-e").get("/v1/datasets/" + name).then().statusCode(200).body("status", equalTo("failed"))
                .body("failure.reason", containsString("stopped"));
        assertEquals(List.of("dataset.failed"), types(eventsOf(name, 1, Duration.ofSeconds(30))));
        assertEquals(List.of("dataset.failed"), types(eventsOf(name, 2, Duration.ofSeconds(5))), "failed is the only event");
    }

    /** Waits until {@code countQuery} counts a row. */
    private static void awaitRow(Statement st, String countQuery) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try (ResultSet rs = st.executeQuery(countQuery)) {
                rs.next();
                if (rs.getLong(1) > 0) {
                    return;
                }
            }
            assertTrue(System.nanoTime() < deadline, "no row for " + countQuery);
            Thread.sleep(100);
        }
    }

    @Test
    void oneReplicaRelaysEventsAtATime() throws Exception {
        String name = DatasetApiTest.name();
        try (Connection db = Devstack.connect("datasets"); Statement st = db.createStatement()) {
            // As another replica's relay holds it for a batch it publishes: this replica leaves the events to it.
            db.setAutoCommit(false);
            st.execute("SELECT pg_advisory_xact_lock(" + OutboxRelay.RELAY_LOCK + ")");
            JsonPath created = DatasetApiTest.create("team-e", name, "jsonl");
            DatasetApiTest.upload("team-e", created, DatasetApiTest.RECORD.getBytes(StandardCharsets.UTF_8));
            assertEquals(List.of(), types(eventsOf(name, 1, Duration.ofSeconds(3))), "no second relay publishes beside the first");
            db.commit();
        }
        assertEquals(List.of("dataset.ready"), types(eventsOf(name, 1, Duration.ofSeconds(30))));
    }

    private static List<String> types(List<JsonNode> events) {
        return events.stream().map(e -> e.get("type").asText()).toList();
    }

    @Test
    void anUploadThatNeverArrivesExpiresAsFailedWithAReason() throws Exception {
        String name = DatasetApiTest.name();
        JsonPath created = DatasetApiTest.create("team-e", name, "jsonl");
        String status = "pending";
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        JsonPath view = null;
        while ("pending".equals(status) && System.nanoTime() < deadline) {
            Thread.sleep(500);
            view = DatasetApiTest.as("team-e").get("/v1/datasets/" + name).then().statusCode(200).extract().jsonPath();
            status = view.getString("status");
        }
        assertEquals("failed", status);
        assertTrue(view.getString("failure.reason").contains("expired"), view.getString("failure.reason"));
        DatasetApiTest.as("team-e").body(DatasetApiTest.RECORD).put(DatasetApiTest.uploadPath(created)).then().statusCode(409);
        List<JsonNode> events = eventsOf(name, 1, Duration.ofSeconds(30));
        assertEquals("dataset.failed", events.get(0).get("type").asText());
    }
}
