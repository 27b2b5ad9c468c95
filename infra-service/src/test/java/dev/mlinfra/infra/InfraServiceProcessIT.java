package dev.mlinfra.infra;

import static dev.mlinfra.infra.LedgerHarness.answersTo;
import static dev.mlinfra.infra.LedgerHarness.awaitStatus;
import static dev.mlinfra.infra.LedgerHarness.awaitWaiting;
import static dev.mlinfra.infra.LedgerHarness.newId;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mlinfra.testsupport.ServiceProcess;
import io.restassured.RestAssured;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** infra-service as a built application in its own process, killed while the ledger is in use and started again. */
class InfraServiceProcessIT {

    /**
     * A killed consumer keeps its partitions until the broker misses its heartbeats for the session
     * timeout (45 s by default); the broker's shortest allowed timeout keeps the test short.
     */
    private static final Map<String, String> QUICK_HANDOVER = Map.of(
            "mp.messaging.incoming.gpu-capacity.session.timeout.ms", "6000",
            "mp.messaging.incoming.gpu-capacity.heartbeat.interval.ms", "1000");

    private static ServiceProcess service;

    private static void start() {
        Map<String, String> config = new java.util.HashMap<>(QUICK_HANDOVER);
        config.put("mlinfra.infra.local.sample-interval", "1s");
        service = ServiceProcess.start("infra-service", config);
        RestAssured.baseURI = "http://127.0.0.1";
        RestAssured.port = service.port();
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.stop();
        }
    }

    @Test
    void aKilledLedgerLosesNoReleaseAndGrantsNothingTwice() throws Exception {
        start();
        LedgerHarness ledger = new LedgerHarness();
        String first = newId();
        String second = newId();
        String third = newId();
        ledger.request(first, "team-k", "scout");
        awaitStatus("team-k", first, "granted");
        ledger.request(second, "team-k", "maverick");
        awaitWaiting("team-k", second, 1);

        // Killed right after its last decision, before the consumer's offsets are surely committed.
        service.kill();
        ledger.release(first, "team-k");
        ledger.request(third, "team-l", "scout");
        start();

        awaitStatus("team-k", first, "released");
        awaitStatus("team-k", second, "granted");
        awaitWaiting("team-l", third, 1);

        // A requester that restarts and asks again (a new event for the same request) changes nothing.
        LedgerHarness.publish(LedgerHarness.requested(second, "team-k", "maverick"));
        ledger.barrier(second, "team-k");
        assertEquals("granted", LedgerHarness.get("team-k", second).jsonPath().getString("status"));
        awaitWaiting("team-l", third, 1);

        ledger.release(second, "team-k");
        awaitStatus("team-l", third, "granted");
        assertEquals(List.of("gpu.granted"), answersTo(first));
        assertEquals(List.of("gpu.granted"), answersTo(second));
        assertEquals(List.of("gpu.granted"), answersTo(third));
        ledger.releaseAll();
    }

    private static List<String> memoryTimestamps() {
        return LedgerHarness.as("team-k").get("/v1/infrastructure/metrics?metric=memory").then().statusCode(200)
                .extract().path("metrics.memory_usage.timestamp");
    }

    @Test
    void theHistorySurvivesARestart() throws Exception {
        start();
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(60).toNanos();
        List<String> before = memoryTimestamps();
        while (before.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(500);
            before = memoryTimestamps();
        }
        org.junit.jupiter.api.Assertions.assertFalse(before.isEmpty(), "no samples before the restart");
        service.kill();
        start();
        List<String> after = memoryTimestamps();
        org.junit.jupiter.api.Assertions.assertTrue(after.containsAll(before), "before " + before + ", after " + after);
    }
}
