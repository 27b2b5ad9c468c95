package dev.mlinfra.infra.messaging;

import static dev.mlinfra.infra.LedgerHarness.answersTo;
import static dev.mlinfra.infra.LedgerHarness.awaitStatus;
import static dev.mlinfra.infra.LedgerHarness.awaitWaiting;
import static dev.mlinfra.infra.LedgerHarness.newId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.infra.LedgerHarness;
import dev.mlinfra.testsupport.DevstackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Pools of GPUs shared by several model types, and a team quota that spans pools. */
@QuarkusTest
@TestProfile(GpuQuotaTest.SharedPools.class)
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "infra"))
class GpuQuotaTest {

    /** Pool 'shared' of 3 GPUs and pool 'spare' of 2; one team holds at most 2 GPUs at once. */
    public static class SharedPools implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.ofEntries(
                    Map.entry("mlinfra.gpu.team-quota", "2"),
                    Map.entry("mlinfra.gpu.pools.shared.size", "3"),
                    Map.entry("mlinfra.gpu.pools.spare.size", "2"),
                    Map.entry("mlinfra.gpu.pools.spare.kind", "gpu"),
                    Map.entry("mlinfra.gpu.model-types.one.pool", "shared"),
                    Map.entry("mlinfra.gpu.model-types.one.gpus", "1"),
                    Map.entry("mlinfra.gpu.model-types.two.pool", "shared"),
                    Map.entry("mlinfra.gpu.model-types.two.gpus", "2"),
                    Map.entry("mlinfra.gpu.model-types.three.pool", "shared"),
                    Map.entry("mlinfra.gpu.model-types.three.gpus", "3"),
                    Map.entry("mlinfra.gpu.model-types.spare-one.pool", "spare"),
                    Map.entry("mlinfra.gpu.model-types.spare-one.gpus", "1"),
                    Map.entry("mlinfra.gpu.model-types.huge.pool", "spare"),
                    Map.entry("mlinfra.gpu.model-types.huge.gpus", "4"));
        }
    }

    private final LedgerHarness ledger = new LedgerHarness();

    @BeforeEach
    void poolsAreIdle() {
        LedgerHarness.assertIdle("shared");
        LedgerHarness.assertIdle("spare");
    }

    @AfterEach
    void releaseEverything() {
        ledger.releaseAll();
    }

    @Test
    void aTeamAtItsQuotaWaitsWhileAnotherTeamBehindItIsGranted() throws Throwable {
        String aShared = newId();
        String aSpare = newId();
        String aMore = newId();
        String bOne = newId();
        ledger.request(aShared, "team-q1", "one");
        awaitStatus("team-q1", aShared, "granted");
        ledger.request(aSpare, "team-q1", "spare-one");
        awaitStatus("team-q1", aSpare, "granted");

        // team-q1 holds 2 (one in each pool): its next request waits though 'shared' has 2 free.
        ledger.request(aMore, "team-q1", "one");
        awaitWaiting("team-q1", aMore, 1);
        ledger.request(bOne, "team-q2", "one");
        awaitStatus("team-q2", bOne, "granted");
        assertEquals("waiting", LedgerHarness.get("team-q1", aMore).jsonPath().getString("status"));

        // Giving back in the other pool frees team-q1's quota: the quota spans pools.
        ledger.release(aSpare, "team-q1");
        awaitStatus("team-q1", aMore, "granted");
        assertEquals(List.of("gpu.granted"), answersTo(aMore));
    }

    @Test
    void aLargeRequestAtTheHeadOfTheQueueIsNotOvertakenBySmallerOnes() {
        String first = newId();
        String large = newId();
        String small = newId();
        ledger.request(first, "team-q1", "two");
        awaitStatus("team-q1", first, "granted");
        ledger.request(large, "team-q2", "two");
        awaitWaiting("team-q2", large, 1);
        // One GPU is free and would fit this request, but the larger one came first.
        ledger.request(small, "team-q3", "one");
        awaitWaiting("team-q3", small, 2);

        ledger.release(first, "team-q1");
        awaitStatus("team-q2", large, "granted");
        awaitStatus("team-q3", small, "granted");
        Map<String, Object> shared = LedgerHarness.pool("shared");
        assertEquals(3, ((Number) shared.get("allocated")).intValue());
        assertEquals("gpu", shared.get("kind"));
    }

    @Test
    void aRequestLargerThanItsPoolIsDenied() throws Throwable {
        String id = newId();
        ledger.request(id, "team-q1", "huge");
        JsonPath denied = awaitStatus("team-q1", id, "denied");
        assertEquals("Needs 4 GPUs of pool 'spare', which has 2 GPUs", denied.getString("reason"));
        assertEquals("spare", denied.getString("pool"));
        assertEquals(4, denied.getInt("gpus"));
        assertEquals(List.of("gpu.denied"), answersTo(id));
    }

    @Test
    void aRequestLargerThanTheTeamQuotaIsDenied() throws Throwable {
        String id = newId();
        ledger.request(id, "team-q1", "three");
        JsonPath denied = awaitStatus("team-q1", id, "denied");
        assertTrue(denied.getString("reason").contains("quota 2"), denied.getString("reason"));
        assertEquals(List.of("gpu.denied"), answersTo(id));
    }
}
