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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Many adapters, a small LRU (max-loras 2 in the test profile) and parallel requests: adapters are
 * evicted and read again all the time, also while a request generates on them.
 */
@QuarkusTest
class AdapterConcurrencyTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ADAPTERS = 6;
    private static final int CLIENTS = 4;
    private static final int REQUESTS_PER_CLIENT = 12;
    private static final String PROMPT = PromptTemplate.promptText("kubernetes/kubernetes",
            "Pod stuck in CrashLoopBackOff", "The container exits right after start, logs are empty.");

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    @TestHTTPResource("/")
    URI server;

    private HttpResponse<String> post(String path, Map<String, Object> body) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(server.resolve(path))
                .timeout(Duration.ofSeconds(60))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** The greedy completion of an adapter, or a description of what went wrong. */
    private String complete(String model) throws Exception {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", model);
        body.put("prompt", PROMPT);
        body.put("temperature", 0);
        body.put("max_tokens", 12);
        HttpResponse<String> response = post("/v1/completions", body);
        if (response.statusCode() != 200) {
            return "HTTP " + response.statusCode() + ": " + response.body();
        }
        return JSON.readTree(response.body()).path("choices").path(0).path("text").asText();
    }

    private void load(String name, String path, List<String> failures) throws Exception {
        HttpResponse<String> response = post("/v1/load_lora_adapter", Map.of("lora_name", name, "lora_path", path));
        if (response.statusCode() != 200) {
            failures.add("load " + name + ": HTTP " + response.statusCode() + ": " + response.body());
        }
    }

    private void unload(String name, List<String> failures) throws Exception {
        HttpResponse<String> response = post("/v1/unload_lora_adapter", Map.of("lora_name", name));
        if (response.statusCode() != 200) {
            failures.add("unload " + name + ": HTTP " + response.statusCode() + ": " + response.body());
        }
    }

    @Test
    void parallelRequestsOnEvictedAdaptersAnswerAsTheyDoAlone() throws Exception {
        List<String> failures = new CopyOnWriteArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= ADAPTERS; i++) {
            names.add("parallel-" + i);
        }
        Map<String, String> churn = new LinkedHashMap<>();
        for (String name : List.of("churn-a", "churn-b")) {
            churn.put(name, TestAdapters.adapter(name, name.hashCode()).toString());
        }
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS + 1);
        AtomicBoolean clientsDone = new AtomicBoolean();
        try {
            for (String name : names) {
                load(name, TestAdapters.adapter(name, name.hashCode()).toString(), failures);
            }
            assertEquals(List.of(), failures);
            Map<String, String> alone = new LinkedHashMap<>();
            for (String name : names) {
                alone.put(name, complete(name));
            }
            assertTrue(new HashSet<>(alone.values()).size() > 1,
                    "the adapters answer differently, so running on the wrong or a broken adapter shows: " + alone);

            // Meanwhile two more adapters are loaded and unloaded again and again: every load evicts
            // the least recently used adapter, sooner or later one that a request is generating on.
            Future<Integer> churner = pool.submit(() -> {
                int rounds = 0;
                while (!clientsDone.get()) {
                    for (Map.Entry<String, String> c : churn.entrySet()) {
                        load(c.getKey(), c.getValue(), failures);
                    }
                    for (String c : churn.keySet()) {
                        unload(c, failures);
                    }
                    rounds++;
                }
                return rounds;
            });
            List<Future<?>> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                clients.add(pool.submit(() -> {
                    for (int i = 0; i < REQUESTS_PER_CLIENT; i++) {
                        String name = names.get((client + i) % ADAPTERS);
                        String answer = complete(name);
                        if (!answer.equals(alone.get(name))) {
                            failures.add(name + ": expected " + JSON.writeValueAsString(alone.get(name)) + " but got "
                                    + JSON.writeValueAsString(answer));
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> client : clients) {
                client.get(2, TimeUnit.MINUTES);
            }
            clientsDone.set(true);
            int rounds = churner.get(1, TimeUnit.MINUTES);

            assertEquals(List.of(), failures, "every parallel answer equals the adapter's answer alone");
            assertTrue(rounds > 0, "adapters were loaded while requests ran");
            JsonNode models = JSON.readTree(http.send(HttpRequest.newBuilder(server.resolve("/v1/models")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            int resident = 0;
            for (JsonNode m : models.path("data")) {
                resident += m.path("resident").asBoolean() ? 1 : 0;
            }
            assertTrue(resident <= 2, "the LRU still holds at most max-loras adapters, holds " + resident);
        } finally {
            clientsDone.set(true);
            pool.shutdownNow();
            pool.awaitTermination(30, TimeUnit.SECONDS);
            for (String name : names) {
                unload(name, new ArrayList<>());
            }
            for (String name : churn.keySet()) {
                unload(name, new ArrayList<>());
            }
        }
    }
}
