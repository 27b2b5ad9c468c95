package dev.mlinfra.infra.rest;

import static dev.mlinfra.infra.LedgerHarness.as;
import static org.hamcrest.Matchers.aMapWithSize;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.error.ErrorCode;
import dev.mlinfra.devstack.process.FreePorts;
import dev.mlinfra.infra.client.PrometheusHistory;
import dev.mlinfra.infra.config.InfraConfig;
import dev.mlinfra.infra.probe.HttpProbe;
import dev.mlinfra.infra.service.UsageSampler;
import dev.mlinfra.testsupport.DevstackResource;
import dev.mlinfra.testsupport.LogCapture;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.inject.Inject;
import java.io.File;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.net.URL;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The history read from a real Prometheus server that scrapes this very service's {@code /q/metrics} every
 * second: the API answers what Prometheus averages per interval, a component's series comes from the
 * component query, a metric without a query is an empty series (as are values Prometheus cannot average, such as
 * +Inf), and a query Prometheus refuses is a 502.
 */
@QuarkusTest
@TestProfile(PrometheusHistoryTest.WithPrometheus.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "infra"))
class PrometheusHistoryTest {

    /** The scrape job, so the job label of every sample is a component key the API accepts. */
    private static final String JOB = "infra_service";
    private static final Duration PATIENCE = Duration.ofSeconds(60);
    /** How long a freshly scraped series may take to show in the history. */
    private static final Duration FIRST_POINTS_WITHIN = Duration.ofSeconds(30);
    /** Prometheus scrapes every second, so the newest (still open) interval changes under the test. */
    private static final int ATTEMPTS_AT_A_STILL_INTERVAL = 20;
    private static final double RELATIVE_TOLERANCE = 1e-3;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /**
     * Prometheus on a free loopback port; queries over what Micrometer exports, each in percent. gpu has
     * no query: its DCGM default is overridden with a blank one (an empty value cannot override it, the
     * configuration refuses to start with it); storage has one that Prometheus cannot parse.
     */
    public static class WithPrometheus implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "mlinfra.infra.prometheus.url", "http://" + FreePorts.LOOPBACK + ":" + FreePorts.pick(),
                    "mlinfra.infra.prometheus.queries.cpu", "100 * avg(system_cpu_usage)",
                    "mlinfra.infra.prometheus.queries.memory",
                    "100 * sum(jvm_memory_used_bytes{area=\"heap\"}) / sum(jvm_memory_max_bytes{area=\"heap\"} > 0)",
                    "mlinfra.infra.prometheus.queries.gpu", " ",
                    "mlinfra.infra.prometheus.queries.storage", "100 * (",
                    "mlinfra.infra.prometheus.component-queries.cpu", "100 * avg(process_cpu_usage{job=\"{component}\"})",
                    // a ratio over zero: Prometheus answers +Inf for every step
                    "mlinfra.infra.prometheus.component-queries.memory", "vector(1) / vector(0)",
                    // two series, 1 and 2 GPUs (say two nodes): 3 in all
                    "mlinfra.infra.prometheus.gpu-count",
                    "label_replace(vector(1), \"node\", \"a\", \"\", \"\") or label_replace(vector(2), \"node\", \"b\", \"\", \"\")");
        }
    }

    /** The management interface, where /q/metrics answers. */
    @TestHTTPResource(value = "/", management = true)
    URL app;

    @Inject
    HttpProbe http;
    @Inject
    InfraConfig config;
    @Inject
    UsageSampler sampler;
    @Inject
    Pool database;

    private Process prometheus;
    private String prometheusUrl;

    @BeforeAll
    void startPrometheus() throws Exception {
        String binary = installedPrometheus();
        prometheusUrl = ConfigProvider.getConfig().getValue("mlinfra.infra.prometheus.url", String.class);
        Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target").toAbsolutePath()), "prometheus-");
        Path config = dir.resolve("prometheus.yml");
        // scrapes every second: a 1m interval averages the several subquery steps it holds
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                scrape_configs:
                  - job_name: %s
                    metrics_path: /q/metrics
                    static_configs:
                      - targets: ['%s:%d']
                """.formatted(JOB, app.getHost(), app.getPort()));
        Path log = dir.resolve("prometheus.log");
        prometheus = new ProcessBuilder(binary, "--config.file=" + config, "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=" + URI.create(prometheusUrl).getAuthority())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        awaitPrometheus("/-/ready", log, answer -> answer.statusCode() == 200);
        awaitPrometheus("/api/v1/query?query=" + encode("up{job=\"" + JOB + "\"}"), log, answer -> {
            JsonNode result = tree(answer.body()).path("data").path("result");
            return answer.statusCode() == 200 && result.size() == 1 && "1".equals(result.get(0).path("value").path(1).asText());
        });
    }

    @AfterAll
    void stopPrometheus() throws InterruptedException {
        if (prometheus != null) {
            prometheus.destroy();
            if (!prometheus.waitFor(5, TimeUnit.SECONDS)) {
                prometheus.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void thePlatformsHistoryIsPrometheusAveragePerMinuteLabelledWithTheMinutesStart() {
        List<JsonNode> points = awaitPoints("/v1/infrastructure/metrics?metric=cpu&period=1h", "cpu_usage");
        for (JsonNode p : points) {
            long t = Instant.parse(p.get("timestamp").asText()).getEpochSecond();
            assertEquals(0, t % 60, "a point not at a whole minute: " + p);
            double v = p.get("value").asDouble();
            assertTrue(v >= 0 && v <= 100, "cpu " + v);
        }
        assertNewestPointIsPrometheusAverage("/v1/infrastructure/metrics?metric=cpu&period=1h", "cpu_usage",
                query("queries.cpu"));
    }

    @Test
    void theStatusShowsPrometheusFiguresAtTheTimeItNames() {
        // the status reads the last whole second, which may precede the first scrape just after the start
        long deadline = System.nanoTime() + FIRST_POINTS_WITHIN.toNanos();
        JsonNode resources;
        do {
            resources = tree(as("team-a").get("/v1/infrastructure/status").then().statusCode(200).extract().asString())
                    .path("resources");
        } while (resources.path("cpu_usage").isNull() && System.nanoTime() < deadline && pause());
        Instant at = Instant.parse(resources.path("sampled_at").asText());
        assertTrue(Duration.between(at, Instant.now()).compareTo(Duration.ofSeconds(10)) < 0, "figures of " + at);
        for (String[] figure : new String[][] {{"cpu_usage", "queries.cpu"}, {"memory_usage", "queries.memory"}}) {
            Optional<Double> value = prometheusValue(query(figure[1]), at.getEpochSecond());
            assertTrue(value.isPresent(), "Prometheus has no " + figure[1] + " at " + at);
            assertEquals(Math.round(value.get()) + "%", resources.path(figure[0]).asText(), resources.toString());
        }
        // gpu has no query and storage's is refused: no figure, and no error; the GPU count is its series summed
        assertTrue(resources.path("gpu_usage").isNull(), resources.toString());
        assertTrue(resources.path("storage_usage").isNull(), resources.toString());
        assertEquals(3, resources.path("gpus").asInt(), resources.toString());
    }

    @Test
    void aStatusQueryThatFailsOnEveryCallIsLoggedOnce() {
        // a reader of its own, so that the status calls of the other tests have not logged the failure yet
        PrometheusHistory history = new PrometheusHistory(http, JSON, config);
        List<String> warnings;
        try (LogCapture logs = LogCapture.of(PrometheusHistory.class)) {
            // from the test's thread, which has no Vert.x context: such callers used to get some answers
            // without their body (a refused query, "HTTP 200"), a few in forty calls
            for (int call = 0; call < 40; call++) {
                history.current(Instant.now().minusSeconds(1), Duration.ofSeconds(10)).await().atMost(PATIENCE);
            }
            warnings = logs.messages(Level.WARNING);
        }
        // storage's query is refused on each call; the others answer
        List<String> storage = warnings.stream().filter(w -> w.contains("for " + query("queries.storage") + " ")).toList();
        assertEquals(1, storage.size(), warnings.toString());
        assertTrue(storage.get(0).contains("Prometheus refused the query"), storage.toString());
        assertEquals(storage, warnings, "only the refused query is logged");
    }

    @Test
    void aStatusQueryThatFailedIsLoggedOnceMoreWhenItAnswersAgain() {
        // a reader of its own, asking first where no Prometheus listens, then the real one
        AtomicReference<String> address = new AtomicReference<>("http://" + FreePorts.LOOPBACK + ":" + FreePorts.pick());
        PrometheusHistory history = new PrometheusHistory(http, JSON, withPrometheusAt(address));
        try (LogCapture logs = LogCapture.of(PrometheusHistory.class)) {
            for (int call = 0; call < 3; call++) {
                history.current(Instant.now().minusSeconds(1), Duration.ofSeconds(10)).await().atMost(PATIENCE);
            }
            // cpu, memory, storage and the GPU count: each failing query is logged when it starts failing
            List<String> away = logs.messages(Level.WARNING);
            assertEquals(4, away.size(), away.toString());
            assertTrue(away.stream().allMatch(w -> w.contains(address.get())), away.toString());

            String unreachable = address.getAndSet(prometheusUrl);
            for (int call = 0; call < 3; call++) {
                history.current(Instant.now().minusSeconds(1), Duration.ofSeconds(10)).await().atMost(PATIENCE);
            }
            List<String> again = logs.messages(Level.INFO);
            assertEquals(List.of(query("queries.cpu"), query("queries.memory"), query("gpu-count")).stream().sorted().toList(),
                    again.stream().map(line -> line.substring(line.indexOf(" answers ") + 9, line.lastIndexOf(" again"))).sorted()
                            .toList(), again.toString());
            assertTrue(again.stream().allMatch(line -> line.startsWith("Prometheus at " + prometheusUrl)), again.toString());
            // storage's query now fails for another reason: logged once more, saying which
            List<String> warnings = logs.messages(Level.WARNING);
            assertEquals(5, warnings.size(), warnings.toString());
            assertTrue(warnings.get(4).contains("for " + query("queries.storage") + " ")
                    && warnings.get(4).contains("Prometheus refused the query") && !warnings.get(4).contains(unreachable), warnings.toString());
        }
    }

    /** The service's configuration, but with Prometheus at whatever {@code address} holds when a query is sent. */
    private InfraConfig withPrometheusAt(AtomicReference<String> address) {
        InfraConfig.Prometheus real = config.prometheus();
        InfraConfig.Prometheus moved = (InfraConfig.Prometheus) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {InfraConfig.Prometheus.class}, (proxy, method, args) -> method.getName().equals("url")
                        ? Optional.of(address.get()) : method.invoke(real, args));
        return (InfraConfig) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {InfraConfig.class},
                (proxy, method, args) -> method.getName().equals("prometheus") ? moved : method.invoke(config, args));
    }

    @Test
    void nothingIsSampledHereWherePrometheusIsTheSource() {
        Instant before = Instant.now().minusSeconds(1);
        sampler.sample().await().atMost(PATIENCE);
        assertNull(sampler.latest(), "no reading of this service's own machine or container");
        long stored = database.preparedQuery("SELECT count(*) FROM metric_sample WHERE sampled_at >= $1")
                .execute(Tuple.of(before.atOffset(ZoneOffset.UTC))).await().atMost(PATIENCE)
                .iterator().next().getLong(0);
        assertEquals(0, stored, "samples stored since the test began");
    }

    @Test
    void aComponentsHistoryIsItsOwnQueryWithTheComponentFilledIn() {
        String path = "/v1/infrastructure/metrics?component=" + JOB + "&metric=cpu";
        assertFalse(awaitPoints(path, "cpu_usage").isEmpty());
        as("team-a").get(path).then().statusCode(200).body("component", equalTo(JOB));
        assertNewestPointIsPrometheusAverage(path, "cpu_usage", query("component-queries.cpu").replace("{component}", JOB));
    }

    @Test
    void aMetricWithoutAQueryHasAnEmptyHistoryNotAnError() {
        as("team-a").get("/v1/infrastructure/metrics?metric=gpu").then().statusCode(200)
                .body("metrics", aMapWithSize(1))
                .body("metrics.gpu_usage", empty());
    }

    @Test
    void infiniteValuesAreNoPointsNotAnError() {
        as("team-a").get("/v1/infrastructure/metrics?metric=memory&component=" + JOB).then().statusCode(200)
                .body("metrics.memory_usage", empty());
    }

    @Test
    void aQueryPrometheusRefusesIsABadGatewayNamingPrometheus() {
        as("team-a").get("/v1/infrastructure/metrics?metric=storage").then().statusCode(502)
                .body("error.code", equalTo(ErrorCode.BAD_GATEWAY.code()))
                .body("error.status", equalTo(502))
                .body("error.message", containsString("Prometheus"))
                .body("error.message", containsString("parse error"));
    }

    // The API's side

    /** The points of one series, once there are any. */
    private List<JsonNode> awaitPoints(String path, String key) {
        long deadline = System.nanoTime() + FIRST_POINTS_WITHIN.toNanos();
        List<JsonNode> points;
        do {
            JsonNode body = tree(as("team-a").get(path).then().statusCode(200)
                    .body("period", equalTo("1h")).body("interval", equalTo("1m"))
                    .body("metrics", aMapWithSize(1))
                    .extract().asString());
            points = new ArrayList<>();
            body.path("metrics").path(key).forEach(points::add);
        } while (points.isEmpty() && System.nanoTime() < deadline && pause());
        assertFalse(points.isEmpty(), "no " + key + " points at " + path + " within " + FIRST_POINTS_WITHIN);
        return points;
    }

    /**
     * The newest point is Prometheus' own average of the query over the minute it labels, evaluated at the
     * minute's end. That minute is still open, so a scrape may change its average between two reads:
     * Prometheus is asked before and after the API, and the API's answer counts only when both agree and the
     * minute did not turn meanwhile.
     */
    private void assertNewestPointIsPrometheusAverage(String path, String key, String query) {
        String averaged = dev.mlinfra.infra.client.PrometheusHistory.averaged(query, dev.mlinfra.infra.service.Period.HOUR);
        String last = "(never asked)";
        for (int attempt = 0; attempt < ATTEMPTS_AT_A_STILL_INTERVAL; attempt++) {
            long minute = openMinute();
            Optional<Double> before = prometheusValue(averaged, minute + 60);
            Response answer = as("team-a").get(path);
            boolean turned = openMinute() != minute;
            Optional<Double> after = prometheusValue(averaged, minute + 60);
            assertEquals(200, answer.statusCode(), answer.asString());
            JsonNode points = tree(answer.asString()).path("metrics").path(key);
            assertFalse(points.isEmpty(), "no " + key + " points at " + path);
            JsonNode newest = points.get(points.size() - 1);
            last = newest + " against Prometheus " + before + " then " + after;
            if (turned || !before.equals(after)) {
                pause();
                continue;
            }
            assertEquals(Instant.ofEpochSecond(minute), Instant.parse(newest.get("timestamp").asText()),
                    "the newest point of " + path + " is not labelled with the start of the open minute");
            assertTrue(before.isPresent(), "Prometheus has no " + averaged + " at " + Instant.ofEpochSecond(minute + 60));
            double expected = Math.round(before.get() * 10) / 10.0;
            assertEquals(expected, newest.get("value").asDouble(), Math.abs(expected) * RELATIVE_TOLERANCE,
                    "the newest point of " + path + " is not Prometheus' " + averaged + " at " + Instant.ofEpochSecond(minute + 60));
            return;
        }
        fail("Prometheus' open minute never held still across one request to " + path + "; last: " + last);
    }

    private static long openMinute() {
        return Math.floorDiv(Instant.now().getEpochSecond(), 60) * 60;
    }

    private static String query(String key) {
        return ConfigProvider.getConfig().getValue("mlinfra.infra.prometheus." + key, String.class);
    }

    // Prometheus' side

    /** What Prometheus answers for an instant query at this time: the average of its series, empty when none. */
    private Optional<Double> prometheusValue(String query, long time) {
        HttpResponse<String> answer = prometheusGet("/api/v1/query?query=" + encode(query) + "&time=" + time);
        JsonNode body = tree(answer.body());
        assertEquals("success", body.path("status").asText(), "Prometheus refused " + query + ": " + answer.body());
        JsonNode result = body.path("data").path("result");
        if (result.isEmpty()) {
            return Optional.empty();
        }
        double sum = 0;
        for (JsonNode series : result) {
            sum += Double.parseDouble(series.path("value").path(1).asText());
        }
        return Optional.of(sum / result.size());
    }

    private HttpResponse<String> prometheusGet(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(prometheusUrl + path)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException("Prometheus at " + prometheusUrl + " did not answer " + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void awaitPrometheus(String path, Path log, Predicate<HttpResponse<String>> done)
            throws IOException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        String last = "(nothing)";
        while (System.nanoTime() < deadline) {
            if (!prometheus.isAlive()) {
                fail("Prometheus exited with " + prometheus.exitValue() + ":\n" + Files.readString(log));
            }
            try {
                HttpResponse<String> answer = HTTP.send(HttpRequest.newBuilder(URI.create(prometheusUrl + path))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                last = answer.statusCode() + " " + answer.body();
                if (done.test(answer)) {
                    return;
                }
            } catch (IOException e) {
                last = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            pause();
        }
        fail("Prometheus at " + prometheusUrl + path + " not as awaited within " + PATIENCE + "; last: " + last
                + "\nlog (" + log + "):\n" + Files.readString(log));
    }

    /**
     * The prometheus binary on the PATH; on a machine without it, the Debian package is installed first
     * (after refreshing the package lists when the first try fails).
     */
    private static String installedPrometheus() throws IOException, InterruptedException {
        Optional<Path> found = onPath("prometheus");
        if (found.isPresent()) {
            return found.get().toString();
        }
        Path log = Files.createDirectories(Path.of("target").toAbsolutePath()).resolve("prometheus-install.log");
        List<String> install = List.of("apt-get", "install", "-y", "--no-install-recommends", "prometheus");
        if (run(install, log) != 0) {
            run(List.of("apt-get", "update"), log);
            run(install, log);
        }
        return onPath("prometheus").orElseGet(() -> fail("No prometheus on the PATH, and `" + String.join(" ", install)
                        + "` (as root) did not install it; see " + log)).toString();
    }

    private static int run(List<String> command, Path log) throws IOException, InterruptedException {
        List<String> asRoot = new ArrayList<>();
        if (!"root".equals(System.getProperty("user.name")) && onPath("sudo").isPresent()) {
            asRoot.addAll(List.of("sudo", "-n", "--preserve-env=DEBIAN_FRONTEND"));
        }
        asRoot.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(asRoot).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().put("DEBIAN_FRONTEND", "noninteractive");
        return builder.start().waitFor();
    }

    private static Optional<Path> onPath(String name) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .filter(dir -> !dir.isBlank())
                .map(dir -> Path.of(dir, name))
                .filter(Files::isExecutable)
                .findFirst();
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static JsonNode tree(String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new IllegalStateException("Not JSON: " + body, e);
        }
    }

    /** Between two polls; always true, so it can end a loop condition. */
    private static boolean pause() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return true;
    }
}
