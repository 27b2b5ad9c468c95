package dev.mlinfra.infra.messaging;

import static dev.mlinfra.infra.LedgerHarness.answersTo;
import static dev.mlinfra.infra.LedgerHarness.awaitState;
import static dev.mlinfra.infra.LedgerHarness.awaitStatus;
import static dev.mlinfra.infra.LedgerHarness.awaitWaiting;
import static dev.mlinfra.infra.LedgerHarness.eventsOf;
import static dev.mlinfra.infra.LedgerHarness.newId;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.infra.LedgerHarness;
import dev.mlinfra.testsupport.Devstack;
import dev.mlinfra.testsupport.DevstackResource;
import dev.mlinfra.testsupport.Management;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The ledger as requesters meet it, with the embedded default: one pool 'local' of one execution
 * slot that scout and maverick share. Events go through the real topic; state is read through the
 * internal API.
 */
@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "infra"))
class GpuLedgerFlowTest {

    private final LedgerHarness ledger = new LedgerHarness();

    @BeforeEach
    void poolIsIdle() {
        LedgerHarness.assertIdle("local");
    }

    @AfterEach
    void releaseEverything() {
        ledger.releaseAll();
    }

    @Test
    void theOneSlotIsGrantedFirstInFirstOut() throws Throwable {
        String first = newId();
        String second = newId();
        String third = newId();
        ledger.request(first, "team-a", "scout");
        JsonPath granted = awaitStatus("team-a", first, "granted");
        assertEquals("local", granted.getString("pool"));
        assertEquals(1, granted.getInt("gpus"));
        assertEquals("scout", granted.getString("model_type"));
        assertEquals("training-service", granted.getString("requester"));
        assertNull(granted.get("queue_position"), "only a waiting request has a queue position");
        assertTrue(granted.getString("granted_at").matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ"),
                granted.getString("granted_at"));

        ledger.request(second, "team-a", "maverick");
        awaitWaiting("team-a", second, 1);
        ledger.request(third, "team-b", "scout");
        awaitWaiting("team-b", third, 2);

        ledger.release(first, "team-a");
        JsonPath released = awaitStatus("team-a", first, "released");
        assertNotNull(released.getString("released_at"));
        assertEquals("job finished", released.getString("reason"));
        awaitStatus("team-a", second, "granted");
        awaitWaiting("team-b", third, 1);

        ledger.release(second, "team-a");
        awaitStatus("team-b", third, "granted");

        List<JsonNode> grants = eventsOf(second).stream().filter(e -> "gpu.granted".equals(e.get("type").asText())).toList();
        assertEquals(1, grants.size());
        JsonNode grant = grants.getFirst();
        assertEquals("infra-service", grant.get("source").asText());
        assertEquals("team-a", grant.get("team").asText());
        assertEquals(second, grant.get("subject").asText());
        JsonNode data = grant.get("data");
        assertEquals(second, data.get("request_id").asText());
        assertEquals("training-service", data.get("requester").asText());
        assertEquals("maverick", data.get("model_type").asText());
        assertEquals("local", data.get("pool").asText());
        assertEquals(1, data.get("gpus").asInt());
    }

    @Test
    void aWaitingRequestThatIsReleasedLeavesTheQueueAndIsNeverGranted() throws Throwable {
        String holder = newId();
        String leaving = newId();
        String behind = newId();
        ledger.request(holder, "team-a", "scout");
        awaitStatus("team-a", holder, "granted");
        ledger.request(leaving, "team-a", "scout");
        awaitWaiting("team-a", leaving, 1);
        ledger.request(behind, "team-b", "scout");
        awaitWaiting("team-b", behind, 2);

        ledger.release(leaving, "team-a");
        JsonPath left = awaitStatus("team-a", leaving, "released");
        assertNull(left.get("granted_at"));
        assertNull(left.get("queue_position"));
        awaitWaiting("team-b", behind, 1);
        assertEquals("granted", LedgerHarness.get("team-a", holder).jsonPath().getString("status"));

        ledger.release(holder, "team-a");
        awaitStatus("team-b", behind, "granted");
        assertEquals(List.of(), answersTo(leaving));
    }

    @Test
    void aRedeliveredRequestOrReleaseChangesNothing() throws Throwable {
        String holder = newId();
        String next = newId();
        String last = newId();
        EventEnvelope asked = ledger.request(holder, "team-a", "scout");
        awaitStatus("team-a", holder, "granted");
        LedgerHarness.publish(asked);
        ledger.request(next, "team-a", "scout");
        awaitWaiting("team-a", next, 1);

        EventEnvelope release = ledger.release(holder, "team-a");
        awaitStatus("team-a", next, "granted");
        ledger.request(last, "team-b", "scout");
        awaitWaiting("team-b", last, 1);

        // The same release again (same event id), and a second release of the same request.
        LedgerHarness.publish(release);
        LedgerHarness.publish(LedgerHarness.released(holder, "team-a", "released twice"));
        ledger.barrier(holder, "team-a");
        assertEquals("granted", LedgerHarness.get("team-a", next).jsonPath().getString("status"),
                "the slot went to the next request once, and stays with it");
        awaitWaiting("team-b", last, 1);
        assertEquals("job finished", LedgerHarness.get("team-a", holder).jsonPath().getString("reason"));
        assertEquals(List.of("gpu.granted"), answersTo(holder), "one request, one grant");
    }

    @Test
    void aReleaseThatComesBeforeItsRequestKeepsTheRequestFromBeingGranted() throws Throwable {
        String late = newId();
        String other = newId();
        ledger.release(late, "team-a");
        JsonPath tombstone = awaitStatus("team-a", late, "released");
        assertNull(tombstone.get("requested_at"));

        ledger.request(late, "team-a", "scout");
        JsonPath after = awaitState("team-a", late, s -> s.get("requested_at") != null);
        assertEquals("released", after.getString("status"));
        assertNull(after.get("granted_at"));
        assertEquals("scout", after.getString("model_type"));

        ledger.request(other, "team-b", "scout");
        awaitStatus("team-b", other, "granted");
        assertEquals(List.of(), answersTo(late), "the late request got no capacity");
    }

    @Test
    void aModelTypeNoPoolServesIsDeniedWithAReason() throws Throwable {
        String id = newId();
        ledger.request(id, "team-a", "llama-9000");
        JsonPath denied = awaitStatus("team-a", id, "denied");
        assertTrue(denied.getString("reason").contains("'llama-9000'"), denied.getString("reason"));
        assertNull(denied.get("pool"));
        List<JsonNode> answers = eventsOf(id).stream().filter(e -> "infra-service".equals(e.get("source").asText())).toList();
        assertEquals(1, answers.size());
        assertEquals("gpu.denied", answers.getFirst().get("type").asText());
        JsonNode data = answers.getFirst().get("data");
        assertEquals("training-service", data.get("requester").asText());
        assertEquals("team-a", data.get("team").asText());
        assertEquals(denied.getString("reason"), data.get("reason").asText());
        assertEquals(0, ((Number) LedgerHarness.pool("local").get("allocated")).intValue());
    }

    @Test
    void aMessageThatIsNoEventIsSkippedAndTheNextOneApplied() {
        String id = newId();
        LedgerHarness.publish(id, "{not an event");
        LedgerHarness.publish(id, "{\"id\":\"" + UUID.randomUUID() + "\",\"type\":\"gpu.requested\",\"data\":{}}");
        ledger.request(id, "team-a", "scout");
        awaitStatus("team-a", id, "granted");
    }

    @Test
    void anEventThatArrivesWhileTheDatabaseIsDownIsAppliedOnceItIsBack() {
        String during = newId();
        String after = newId();
        Devstack.stopPostgres();
        try {
            ledger.request(during, "team-a", "scout");
            sleep(3000);
        } finally {
            Devstack.startPostgres();
        }
        awaitStatus("team-a", during, "granted");
        ledger.request(after, "team-a", "maverick");
        awaitWaiting("team-a", after, 1);
    }

    @Test
    void gaugesShowWhatEachPoolHasGrantedAndHowManyWait() {
        String holder = newId();
        String waiting = newId();
        ledger.request(holder, "team-a", "scout");
        awaitStatus("team-a", holder, "granted");
        ledger.request(waiting, "team-a", "scout");
        awaitWaiting("team-a", waiting, 1);
        awaitGauge("mlinfra_gpu_allocated", "local", 1);
        awaitGauge("mlinfra_gpu_waiting", "local", 1);
        ledger.releaseAll();
        awaitGauge("mlinfra_gpu_allocated", "local", 0);
        awaitGauge("mlinfra_gpu_waiting", "local", 0);
    }

    private static void awaitGauge(String name, String pool, double expected) {
        Pattern line = Pattern.compile("^" + name + "\\{pool=\"" + pool + "\"} (\\S+)$", Pattern.MULTILINE);
        long deadline = System.nanoTime() + 30_000_000_000L;
        String last = null;
        while (System.nanoTime() < deadline) {
            String metrics = Management.given().get("/q/metrics").then().statusCode(200).extract().asString();
            Matcher m = line.matcher(metrics);
            assertTrue(m.find(), "no gauge " + name + " for pool " + pool);
            last = m.group(1);
            if (Double.parseDouble(last) == expected) {
                return;
            }
            sleep(100);
        }
        fail(name + "{pool=" + pool + "} stayed " + last + ", expected " + expected);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
