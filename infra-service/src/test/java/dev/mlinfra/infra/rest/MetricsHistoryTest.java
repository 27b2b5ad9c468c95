package dev.mlinfra.infra.rest;

import static dev.mlinfra.infra.LedgerHarness.as;
import static org.hamcrest.Matchers.aMapWithSize;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.infra.probe.HostUsage;
import dev.mlinfra.infra.repository.MetricSampleRepository;
import dev.mlinfra.infra.service.Metric;
import dev.mlinfra.infra.service.Period;
import dev.mlinfra.testsupport.DevstackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The history across every period: generated samples over 30 days (each minute in the last two hours,
 * every five minutes before, with two gaps), read back as one average per interval, gaps omitted.
 */
@QuarkusTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "infra"))
class MetricsHistoryTest {

    /** A component of the test profile whose cpu series only this test writes (the sampler records its storage). */
    private static final String COMPONENT = "scratch";

    @Inject
    MetricSampleRepository samples;

    private final List<HostUsage.Reading> generated = new ArrayList<>();
    /** The moment the samples were generated up to; the gaps are placed relative to it. */
    private Instant generatedAt;

    private static boolean inGap(Instant t, Instant now) {
        return (!t.isBefore(now.minus(Duration.ofDays(3))) && t.isBefore(now.minus(Duration.ofDays(2))))
                || (!t.isBefore(now.minus(Duration.ofMinutes(40))) && t.isBefore(now.minus(Duration.ofMinutes(30))));
    }

    @BeforeAll
    void generate() {
        Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        generatedAt = now;
        for (Instant t = now.minus(Duration.ofDays(30)); !t.isAfter(now); ) {
            if (!inGap(t, now)) {
                double value = (t.getEpochSecond() / 60 % 97) + 0.25;
                generated.add(new HostUsage.Reading(t, Map.of(COMPONENT, Map.of(Metric.CPU, value)), 0));
            }
            t = t.plus(t.isBefore(now.minus(Duration.ofHours(2))) ? Duration.ofMinutes(5) : Duration.ofMinutes(1));
        }
        for (int i = 0; i < generated.size(); i += 2000) {
            samples.record(generated.subList(i, Math.min(generated.size(), i + 2000))).await().atMost(Duration.ofMinutes(1));
        }
    }

    /** The averages per interval start of the generated samples. */
    private TreeMap<Long, Double> expected(Period period) {
        long step = period.interval.toSeconds();
        TreeMap<Long, double[]> sums = new TreeMap<>();
        for (HostUsage.Reading r : generated) {
            double[] s = sums.computeIfAbsent(Math.floorDiv(r.at().getEpochSecond(), step) * step, k -> new double[2]);
            s[0] += r.figures().get(COMPONENT).get(Metric.CPU);
            s[1]++;
        }
        TreeMap<Long, Double> averages = new TreeMap<>();
        sums.forEach((k, s) -> averages.put(k, Math.round(s[0] / s[1] * 10) / 10.0));
        return averages;
    }

    @Test
    void everyPeriodAnswersOneAveragePerIntervalAndOmitsGaps() {
        for (Period period : Period.values()) {
            long step = period.interval.toSeconds();
            long before = Math.floorDiv(Instant.now().minus(period.length).getEpochSecond(), step) * step;
            List<Map<String, Object>> points = as("team-a")
                    .get("/v1/infrastructure/metrics?component=" + COMPONENT + "&metric=cpu&period=" + period.value)
                    .then().statusCode(200)
                    .body("period", equalTo(period.value))
                    .body("interval", equalTo(period.intervalName))
                    .body("metrics", aMapWithSize(1))
                    .extract().path("metrics.cpu_usage");
            long after = Math.floorDiv(Instant.now().minus(period.length).getEpochSecond(), step) * step;
            TreeMap<Long, Double> expected = expected(period);
            TreeMap<Long, Double> answered = new TreeMap<>();
            for (Map<String, Object> p : points) {
                answered.put(Instant.parse((String) p.get("timestamp")).getEpochSecond(), ((Number) p.get("value")).doubleValue());
            }
            assertTrue(answered.size() <= 100, period.value + ": " + answered.size() + " points");
            assertFalse(answered.isEmpty(), period.value);
            assertTrue(answered.firstKey() >= before, period.value + " starts before its period");
            answered.forEach((t, v) -> {
                assertTrue(expected.containsKey(t), period.value + ": a point at " + Instant.ofEpochSecond(t) + " without samples");
                // JSON numbers come back as floats here
                assertEquals(expected.get(t), v, 1e-4, period.value + " at " + Instant.ofEpochSecond(t));
            });
            // every interval with samples inside the period is there; those without are not
            expected.tailMap(after, true).keySet().forEach(t -> assertTrue(answered.containsKey(t),
                    period.value + " lacks " + Instant.ofEpochSecond(t)));
        }
    }

    @Test
    void gapsAreOmittedNotZeroFilled() {
        List<String> timestamps = as("team-a").get("/v1/infrastructure/metrics?component=" + COMPONENT + "&metric=cpu&period=1h")
                .then().statusCode(200).extract().path("metrics.cpu_usage.timestamp");
        // One-minute intervals: the gap's first and last minute may share an interval with samples.
        long inGap = timestamps.stream().map(Instant::parse)
                .filter(t -> t.isAfter(generatedAt.minus(Duration.ofMinutes(39))) && t.isBefore(generatedAt.minus(Duration.ofMinutes(31))))
                .count();
        assertEquals(0, inGap, "points inside the gap: " + timestamps);
        assertTrue(timestamps.size() >= 45, "points: " + timestamps.size());
    }

    @Test
    void thePlatformsOwnFiguresAreSampled() {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        List<Float> memory;
        do {
            memory = as("team-a").get("/v1/infrastructure/metrics?metric=memory").then().statusCode(200)
                    .body("metrics", not(hasKey("cpu_usage")))
                    .extract().path("metrics.memory_usage.value");
        } while (memory.isEmpty() && System.nanoTime() < deadline);
        assertFalse(memory.isEmpty(), "no memory samples of the host");
        memory.forEach(v -> assertTrue(v > 0 && v <= 100, "memory " + v));
        as("team-a").get("/v1/infrastructure/metrics").then().statusCode(200)
                .body("period", equalTo("1h")).body("interval", equalTo("1m"))
                .body("metrics", hasKey("cpu_usage")).body("metrics", hasKey("gpu_usage"))
                .body("metrics", hasKey("storage_usage"));
    }

    @Test
    void unknownValuesAreRefusedNamingTheParameterAndTheAllowedValues() {
        as("team-a").get("/v1/infrastructure/metrics?period=2h").then().statusCode(400)
                .body("error.code", equalTo("invalid_request")).body("error.status", equalTo(400))
                .body("error.message", containsString("period '2h'"))
                .body("error.message", containsString("1h, 6h, 24h, 7d, 30d"));
        as("team-a").get("/v1/infrastructure/metrics?metric=disk").then().statusCode(400)
                .body("error.message", containsString("metric 'disk'"))
                .body("error.message", containsString("cpu, memory, gpu, storage"));
        as("team-a").get("/v1/infrastructure/metrics?component=cassandra").then().statusCode(400)
                .body("error.message", containsString("component 'cassandra'"))
                .body("error.message", containsString("postgresql"));
    }

    @Test
    void theObjectStoreIsKnownByEitherNameWhateverAStatusCallLastSaw() {
        // the status names it minio once it answered as MinIO, object_storage before and for other stores
        for (String name : List.of("minio", "object_storage")) {
            as("team-a").get("/v1/infrastructure/metrics?metric=storage&component=" + name).then().statusCode(200)
                    .body("component", equalTo(name));
        }
    }
}
