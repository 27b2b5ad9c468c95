package dev.mlinfra.gateway.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;

/** The headers a limited response carries, from one decision, in the draft's Structured Field syntax. */
class RateLimitHeadersTest {

    private static final RatePolicy INFERENCE = new RatePolicy("inference", 100, Duration.ofMinutes(1));

    private static Map<String, String> write(RateDecision decision, long now) {
        return RateLimitHeaders.of(decision, now);
    }

    @Test
    void anAllowedRequestCarriesTheContractsHeadersAndTheIetfFieldsOfTheSameWindow() {
        long now = 1_700_000_000_000L;
        // 58 requests into a window that ends 17.2 s from now
        RateDecision decision = new RateDecision(INFERENCE, true, 42, now + 17_200);
        Map<String, String> headers = write(decision, now);
        assertEquals("100", headers.get("X-RateLimit-Limit"));
        assertEquals("42", headers.get("X-RateLimit-Remaining"));
        assertEquals(String.valueOf(1_700_000_018L), headers.get("X-RateLimit-Reset"));
        assertEquals("\"inference\";q=100;w=60", headers.get("RateLimit-Policy"));
        assertEquals("\"inference\";r=42;t=18", headers.get("RateLimit"));
        assertNull(headers.get("Retry-After"));
    }

    @Test
    void aRefusalAddsRetryAfterNeverBeforeTheEndOfTheEffectiveWindow() {
        long now = 1_700_000_000_000L;
        Map<String, String> headers = write(new RateDecision(INFERENCE.withLimit(5), false, 0, now + 30_001), now);
        assertEquals("\"inference\";q=5;w=60", headers.get("RateLimit-Policy"));
        assertEquals("\"inference\";r=0;t=31", headers.get("RateLimit"));
        assertEquals("31", headers.get("Retry-After"));
        assertEquals("5", headers.get("X-RateLimit-Limit"));
        // a window that ends within the same millisecond: t may be 0, Retry-After is at least 1
        Map<String, String> ending = write(new RateDecision(INFERENCE, false, 0, now), now);
        assertEquals("\"inference\";r=0;t=0", ending.get("RateLimit"));
        assertEquals("1", ending.get("Retry-After"));
    }

    @Test
    void windowsAreWholeSecondsRoundedUp() {
        RatePolicy odd = new RatePolicy("data", 60, Duration.ofMillis(1500));
        assertEquals(2, RateLimitHeaders.windowSeconds(odd));
        assertEquals(3600, RateLimitHeaders.windowSeconds(new RatePolicy("data", 60, Duration.ofHours(1))));
    }

    @Test
    void policyNamesAreStructuredFieldStrings() {
        assertEquals("\"model\"", RateLimitHeaders.sfString("model"));
        assertEquals("\"a\\\"b\\\\c\"", RateLimitHeaders.sfString("a\"b\\c"));
        assertThrows(IllegalArgumentException.class, () -> RateLimitHeaders.sfString("données"));
    }

    @Test
    void aKeysOwnLimitReplacesTheConfiguredOneOfThatAreaOnly() {
        RateLimiter limiter = new RateLimiter(Map.of("inference", INFERENCE,
                "training", new RatePolicy("training", 10, Duration.ofMinutes(1))), new InMemoryRateLimitStore());
        assertEquals(100, limiter.policy("inference", Map.of()).orElseThrow().limit());
        assertEquals(500, limiter.policy("inference", Map.of("inference", 500)).orElseThrow().limit());
        assertEquals(10, limiter.policy("training", Map.of("inference", 500)).orElseThrow().limit());
        assertEquals(Map.of("inference", 500, "training", 5),
                limiter.effectiveLimits(Map.of("inference", 500, "training", 5, "gone", 7)));
        List<RateDecision> decisions = new ArrayList<>();
        limiter.acquire("k", "admin", Map.of("admin", 3), 0, decisions::add, Assertions::fail);
        assertEquals(Collections.singletonList(null), decisions, "an area without a limit stays unlimited");
        limiter.acquire("k", "inference", Map.of("inference", 2), 0, decisions::add, Assertions::fail);
        limiter.acquire("k", "inference", Map.of("inference", 2), 1, decisions::add, Assertions::fail);
        limiter.acquire("k", "inference", Map.of("inference", 2), 2, decisions::add, Assertions::fail);
        assertEquals(List.of(true, true, false), decisions.subList(1, 4).stream().map(RateDecision::allowed).toList(),
                "an in-memory store decides at once, under the key's own limit");
    }
}
