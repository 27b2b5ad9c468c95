package dev.mlinfra.gateway.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class RateLimitStoreTest {

    private static final RatePolicy TEN_PER_MINUTE = new RatePolicy("training", 10, Duration.ofMinutes(1));

    @Test
    void theEleventhRequestOfAWindowIsRefusedAndTheNextWindowStartsAfresh() {
        InMemoryRateLimitStore store = new InMemoryRateLimitStore();
        long t0 = 1_700_000_000_123L;
        for (int i = 1; i <= 10; i++) {
            RateDecision d = store.acquireNow("k:training", TEN_PER_MINUTE, t0 + i);
            assertTrue(d.allowed());
            assertEquals(10 - i, d.remaining());
            assertEquals((t0 + 1 + 60_000 + 999) / 1000, d.resetEpochSeconds(), "the window began with the first request");
        }
        RateDecision refused = store.acquireNow("k:training", TEN_PER_MINUTE, t0 + 30_000);
        assertFalse(refused.allowed());
        assertEquals(0, refused.remaining());
        assertEquals(31, refused.retryAfterSeconds(t0 + 30_000), "30.001 s left, rounded up");
        assertFalse(store.acquireNow("k:training", TEN_PER_MINUTE, t0 + 60_000).allowed(), "the window lasts a full minute");
        RateDecision fresh = store.acquireNow("k:training", TEN_PER_MINUTE, t0 + 60_001);
        assertTrue(fresh.allowed());
        assertEquals(9, fresh.remaining());
    }

    @Test
    void bucketsDoNotShareBudgets() {
        InMemoryRateLimitStore store = new InMemoryRateLimitStore();
        for (int i = 0; i < 10; i++) {
            store.acquireNow("a:training", TEN_PER_MINUTE, 1000);
        }
        assertFalse(store.acquireNow("a:training", TEN_PER_MINUTE, 1000).allowed());
        assertTrue(store.acquireNow("b:training", TEN_PER_MINUTE, 1000).allowed());
        assertTrue(store.acquireNow("a:data", TEN_PER_MINUTE, 1000).allowed());
    }

    @Test
    void fiftyConcurrentRequestsAgainstTenLetExactlyTenThrough() throws Exception {
        InMemoryRateLimitStore store = new InMemoryRateLimitStore();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> results = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            Callable<Boolean> call = () -> {
                go.await();
                return store.acquireNow("k:training", TEN_PER_MINUTE, 5_000).allowed();
            };
            results.add(pool.submit(call));
        }
        go.countDown();
        int allowed = 0;
        for (Future<Boolean> f : results) {
            allowed += f.get() ? 1 : 0;
        }
        pool.shutdown();
        assertEquals(10, allowed);
    }

    @Test
    void aLimitChangedWithinAWindowAppliesToTheRequestsCountedSoFar() {
        InMemoryRateLimitStore store = new InMemoryRateLimitStore();
        for (int i = 0; i < 5; i++) {
            assertTrue(store.acquireNow("k:training", TEN_PER_MINUTE, 1000).allowed());
        }
        RatePolicy five = TEN_PER_MINUTE.withLimit(5);
        RateDecision lowered = store.acquireNow("k:training", five, 1000);
        assertFalse(lowered.allowed(), "the sixth request against a lowered limit of 5");
        assertEquals(5, lowered.limit());
        RatePolicy twenty = TEN_PER_MINUTE.withLimit(20);
        RateDecision raised = store.acquireNow("k:training", twenty, 1000);
        assertTrue(raised.allowed(), "the seventh request against a raised limit of 20");
        assertEquals(13, raised.remaining());
        assertEquals(20, raised.limit());
    }
}
