package dev.mlinfra.gateway.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.gateway.GatewayTestBackends;
import dev.mlinfra.testsupport.DevstackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The shared store that lets several gateway replicas draw on one budget, against real PostgreSQL. */
@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "gateway"))
@QuarkusTestResource(value = GatewayTestBackends.class, restrictToAnnotatedClass = true)
class PostgresRateLimitStoreTest {

    private static final RatePolicy TEN_PER_MINUTE = new RatePolicy("training", 10, Duration.ofMinutes(1));

    @Inject
    Pool pool;

    @Test
    void twoReplicasFiftyConcurrentRequestsExactlyTenAllowed() {
        // Two store instances stand for two gateway replicas sharing the database.
        RateLimitStore replicaA = new PostgresRateLimitStore(pool);
        RateLimitStore replicaB = new PostgresRateLimitStore(pool);
        String bucket = UUID.randomUUID() + ":training";
        long now = System.currentTimeMillis();
        List<Uni<RateDecision>> calls = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            calls.add((i % 2 == 0 ? replicaA : replicaB).acquire(bucket, TEN_PER_MINUTE, now));
        }
        List<RateDecision> decisions = Uni.join().all(calls).andFailFast().await().atMost(Duration.ofSeconds(30));
        assertEquals(10, decisions.stream().filter(RateDecision::allowed).count());
        assertTrue(decisions.stream().allMatch(d -> d.resetEpochSeconds() == (now + 60_000 + 999) / 1000
                || Math.abs(d.resetEpochSeconds() - (now + 60_000) / 1000) <= 1));
    }

    @Test
    void aNewWindowStartsOnceTheOldOneIsOver() {
        RateLimitStore store = new PostgresRateLimitStore(pool);
        String bucket = UUID.randomUUID() + ":training";
        long t0 = System.currentTimeMillis();
        for (int i = 0; i < 10; i++) {
            assertTrue(store.acquire(bucket, TEN_PER_MINUTE, t0).await().indefinitely().allowed());
        }
        assertFalse(store.acquire(bucket, TEN_PER_MINUTE, t0 + 1000).await().indefinitely().allowed());
        RateDecision next = store.acquire(bucket, TEN_PER_MINUTE, t0 + 60_001).await().indefinitely();
        assertTrue(next.allowed());
        assertEquals(9, next.remaining());
    }

    @Test
    void aLimitChangedWithinAWindowAppliesToTheRequestsCountedSoFar() {
        RateLimitStore store = new PostgresRateLimitStore(pool);
        String bucket = UUID.randomUUID() + ":training";
        long t0 = System.currentTimeMillis();
        for (int i = 0; i < 5; i++) {
            assertTrue(store.acquire(bucket, TEN_PER_MINUTE, t0).await().indefinitely().allowed());
        }
        RateDecision lowered = store.acquire(bucket, TEN_PER_MINUTE.withLimit(5), t0 + 10).await().indefinitely();
        assertFalse(lowered.allowed(), "the sixth request against a lowered limit of 5");
        assertEquals(5, lowered.limit());
        RateDecision raised = store.acquire(bucket, TEN_PER_MINUTE.withLimit(20), t0 + 20).await().indefinitely();
        assertTrue(raised.allowed(), "the seventh request against a raised limit of 20");
        assertEquals(13, raised.remaining());
    }
}
