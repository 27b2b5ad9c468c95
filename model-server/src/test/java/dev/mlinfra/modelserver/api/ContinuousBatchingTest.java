package dev.mlinfra.modelserver.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.engine.data.PromptTemplate;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Concurrent requests share one decode loop: they answer exactly what each answers alone (greedy
 * and seeded sampling, base and two adapters, streamed or not, stop strings and token limits per
 * request), a request joins while another decodes and leaves before it, and the metrics move.
 */
@QuarkusTest
class ContinuousBatchingTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BASE = "llama4-scout-mini";
    private static final List<String> PROMPTS = List.of(
            PromptTemplate.promptText("argoproj/argo-cd", "Sync fails after upgrade", "Every sync fails since v2.9."),
            PromptTemplate.promptText("kubernetes/kubernetes", "Pod stuck in CrashLoopBackOff", "Logs are empty."),
            PromptTemplate.promptText("fluxcd/flux2", "Kustomization not ready", "Health checks time out."));
    private static final String ITERATION = "mlinfra_modelserver_iteration_tokens";
    private static final String REQUESTS = "mlinfra_modelserver_requests_total";

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    @TestHTTPResource("/")
    URI server;

    @BeforeEach
    void loadAdapters() throws Exception {
        for (String name : List.of("batch-a", "batch-b")) {
            Map<String, Object> body = Map.of("lora_name", name,
                    "lora_path", TestAdapters.adapter(name, name.hashCode()).toString());
            assertEquals(200, post("/v1/load_lora_adapter", body).statusCode());
        }
    }

    private HttpResponse<String> post(String path, Map<String, Object> body) throws Exception {
        return http.send(HttpRequest.newBuilder(server.resolve(path))
                .timeout(Duration.ofMinutes(2))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Map<String, Object> request(String model, int prompt, int maxTokens, Object... kv) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", model);
        body.put("prompt", PROMPTS.get(prompt));
        body.put("max_tokens", maxTokens);
        for (int i = 0; i < kv.length; i += 2) {
            body.put((String) kv[i], kv[i + 1]);
        }
        return body;
    }

    /** The completion's text (streamed: the text of its chunks) and finish reason, or what went wrong. */
    private String complete(Map<String, Object> body) throws Exception {
        HttpResponse<String> response = post("/v1/completions", body);
        if (response.statusCode() != 200) {
            return "HTTP " + response.statusCode() + ": " + response.body();
        }
        if (!Boolean.TRUE.equals(body.get("stream"))) {
            JsonNode choice = JSON.readTree(response.body()).path("choices").path(0);
            return choice.path("text").asText() + " [" + choice.path("finish_reason").asText() + "]";
        }
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (String line : response.body().split("\n")) {
            if (line.startsWith("data: {")) {
                JsonNode choice = JSON.readTree(line.substring("data: ".length())).path("choices").path(0);
                text.append(choice.path("text").asText());
                if (choice.hasNonNull("finish_reason")) {
                    finish = choice.path("finish_reason").asText();
                }
            }
        }
        return text + " [" + finish + "]";
    }

    @Test
    void concurrentRequestsAnswerExactlyWhatEachAnswersAlone() throws Exception {
        List<Map<String, Object>> requests = List.of(
                request(BASE, 0, 32, "temperature", 0),
                request("batch-a", 0, 32, "temperature", 0),
                request("batch-b", 1, 28, "temperature", 0.8, "top_p", 0.9, "seed", 7),
                request(BASE, 1, 30, "temperature", 1.0, "top_k", 20, "seed", 11, "stream", true),
                request("batch-a", 2, 24, "temperature", 0.7, "seed", 3, "stop", List.of("e ", "\n")),
                request("batch-b", 0, 20, "temperature", 0, "stream", true),
                request(BASE, 2, 12, "temperature", 0),
                request("batch-a", 1, 36, "temperature", 1.2, "top_p", 0.95, "seed", 99));
        List<String> alone = new ArrayList<>();
        for (Map<String, Object> r : requests) {
            alone.add(complete(r));
        }
        assertTrue(new HashSet<>(alone).size() >= 6, "the requests answer differently: " + alone);

        ServerMetrics before = ServerMetrics.scrape(server);
        List<String> together = new ArrayList<>();
        ExecutorService clients = Executors.newFixedThreadPool(requests.size());
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<String>> answers = new ArrayList<>();
            for (Map<String, Object> r : requests) {
                answers.add(clients.submit(() -> {
                    go.await();
                    return complete(r);
                }));
            }
            go.countDown();
            for (Future<String> a : answers) {
                together.add(a.get());
            }
        } finally {
            clients.shutdownNow();
        }
        ServerMetrics after = ServerMetrics.scrape(server);

        assertEquals(alone, together, "every request answers as it does alone");
        double steps = after.value(ITERATION + "_count") - before.value(ITERATION + "_count");
        double rows = after.value(ITERATION + "_sum") - before.value(ITERATION + "_sum");
        assertTrue(rows / steps > 2, "the requests were decoded together: " + rows + " rows in " + steps + " steps");
    }

    @Test
    void aRequestJoinsWhileAnotherDecodesAndLeavesBeforeIt() throws Exception {
        // The long request generates until the context is full (seconds); greedy, so its first
        // tokens are those of a short run alone.
        Map<String, Object> longOne = RawStream.endlessCompletion();
        longOne.put("model", BASE);
        longOne.put("stream", false);
        longOne.put("max_tokens", 32);
        String longStart = complete(longOne);
        longOne.putAll(RawStream.endlessCompletion());
        Map<String, Object> shortOne = request("batch-a", 1, 8, "temperature", 0.9, "seed", 5);
        String shortAlone = complete(shortOne);

        ServerMetrics before = ServerMetrics.scrape(server);
        StringBuilder longText = new StringBuilder();
        String shortTogether;
        try (RawStream stream = new RawStream(server, "/v1/completions", longOne)) {
            longText.append(stream.nextEvent().path("choices").path(0).path("text").asText());
            shortTogether = complete(shortOne);
            for (int i = 0; i < 3; i++) {
                JsonNode choice = stream.nextEvent().path("choices").path(0);
                assertTrue(choice.path("finish_reason").isNull(), "the long request is still generating");
                longText.append(choice.path("text").asText());
            }
        }
        // Hanging up stops the long request; had it run to its end before the short one, it would
        // have finished by its length instead.
        ServerMetrics after = ServerMetrics.await(server, 0, "mlinfra_modelserver_num_requests_running");
        assertEquals(shortAlone, shortTogether, "the request that joined answers as it does alone");
        assertTrue(longStart.startsWith(longText.toString()), "the long request streams its answer alone: " + longText);
        assertEquals(1, after.value(REQUESTS, "finished_reason", "abort") - before.value(REQUESTS, "finished_reason", "abort"),
                "the long request was still decoding when the short one had finished");
        double ended = after.value(REQUESTS, "finished_reason", "length") + after.value(REQUESTS, "finished_reason", "stop")
                - before.value(REQUESTS, "finished_reason", "length") - before.value(REQUESTS, "finished_reason", "stop");
        assertEquals(1, ended, "only the short request ran to its end");
    }

    @Test
    void metricsCountTokensAndTimeToFirstToken() throws Exception {
        ServerMetrics before = ServerMetrics.scrape(server);
        for (String gauge : List.of("mlinfra_modelserver_num_requests_running", "mlinfra_modelserver_num_requests_waiting")) {
            assertTrue(before.has(gauge), gauge + " is exposed");
            assertEquals(0, before.value(gauge), gauge + " reads 0 when idle");
        }
        HttpResponse<String> response = post("/v1/completions", request("batch-b", 2, 10, "temperature", 0));
        assertEquals(200, response.statusCode(), response.body());
        JsonNode usage = JSON.readTree(response.body()).path("usage");
        String finish = JSON.readTree(response.body()).path("choices").path(0).path("finish_reason").asText();
        ServerMetrics after = ServerMetrics.scrape(server);

        assertEquals(usage.path("completion_tokens").asDouble(), after.value("mlinfra_modelserver_generation_tokens_total")
                - before.value("mlinfra_modelserver_generation_tokens_total"), "generated tokens counted");
        assertEquals(usage.path("prompt_tokens").asDouble(), after.value("mlinfra_modelserver_prompt_tokens_total")
                - before.value("mlinfra_modelserver_prompt_tokens_total"), "prompt tokens counted");
        assertEquals(1, after.value("mlinfra_modelserver_time_to_first_token_seconds_count")
                - before.value("mlinfra_modelserver_time_to_first_token_seconds_count"), "one first token timed");
        assertTrue(after.value("mlinfra_modelserver_time_to_first_token_seconds_sum")
                > before.value("mlinfra_modelserver_time_to_first_token_seconds_sum"));
        assertEquals(1, after.value(REQUESTS, "finished_reason", finish) - before.value(REQUESTS, "finished_reason", finish));
        assertTrue(after.value("mlinfra_modelserver_generation_tokens_total", "model_name", BASE) > 0, "tagged with the base's name");
    }
}
