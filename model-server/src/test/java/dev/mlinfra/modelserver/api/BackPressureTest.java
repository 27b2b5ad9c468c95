package dev.mlinfra.modelserver.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import dev.mlinfra.modelserver.config.ModelServerConfig;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * With the batch and the queue full of endless generations ({@code max-num-seqs} running,
 * {@code max-waiting-requests} waiting; 4 and 4 in the test profile), a request
 * is refused at once with 503 in OpenAI's error shape, streamed or not, and served again once a place
 * is free; the gauges show the running and the waiting request.
 */
@QuarkusTest
class BackPressureTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RUNNING = "mlinfra_modelserver_num_requests_running";
    private static final String WAITING = "mlinfra_modelserver_num_requests_waiting";
    private static final String REQUESTS = "mlinfra_modelserver_requests_total";

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    @TestHTTPResource("/")
    URI server;

    @Inject
    ModelServerConfig config;

    private static Map<String, Object> body(boolean stream, int maxTokens) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("messages", List.of(Map.of("role", "user", "content", RawStream.ENDLESS_PROMPT)));
        body.put("max_tokens", maxTokens);
        body.put("temperature", 0);
        body.put("stream", stream);
        return body;
    }

    private HttpResponse<String> chat(Map<String, Object> body) throws Exception {
        return http.send(HttpRequest.newBuilder(server.resolve("/v1/chat/completions"))
                .timeout(Duration.ofMinutes(2))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aFullQueueAnswers503InOpenAisErrorShapeUntilAPlaceIsFree() throws Exception {
        double rejectedBefore = ServerMetrics.scrape(server).value(REQUESTS, "finished_reason", "rejected");
        List<RawStream> streams = new ArrayList<>();
        try {
            // A completion answers its first text once it generates: these fill the batch.
            for (int i = 0; i < config.maxNumSeqs(); i++) {
                RawStream running = new RawStream(server, "/v1/completions", RawStream.endlessCompletion());
                streams.add(running);
                running.nextEvent();
            }
            // A streamed chat answers the assistant role once it is queued: these fill the queue.
            for (int i = 0; i < config.maxWaitingRequests(); i++) {
                RawStream waiting = new RawStream(server, "/v1/chat/completions", body(true, 1024));
                streams.add(waiting);
                waiting.nextEvent();
            }
            ServerMetrics gauges = ServerMetrics.await(server, config.maxWaitingRequests(), WAITING);
            assertEquals(config.maxWaitingRequests(), gauges.value(WAITING), "the queue is full");
            assertEquals(config.maxNumSeqs(), gauges.value(RUNNING), "the batch is full");

            for (boolean stream : new boolean[] {false, true}) {
                HttpResponse<String> refused = chat(body(stream, 4));
                assertEquals(503, refused.statusCode(), refused.body());
                assertEquals("1", refused.headers().firstValue("retry-after").orElse(null));
                assertTrue(refused.headers().firstValue("content-type").orElse("").startsWith("application/json"));
                JsonNode error = JSON.readTree(refused.body()).path("error");
                assertEquals("ServiceUnavailableError", error.path("type").asText());
                assertEquals(503, error.path("code").asInt());
                assertTrue(error.path("param").isNull());
                assertTrue(error.path("message").asText().contains("max-waiting-requests"), error.toString());
            }
        } finally {
            for (RawStream s : streams) {
                s.close();
            }
        }
        // The queued requests leave once the loop sees their clients gone, which may be after the running ones left.
        ServerMetrics.await(server, 0, WAITING);
        ServerMetrics idle = ServerMetrics.await(server, 0, RUNNING);
        assertEquals(0, idle.value(RUNNING));
        assertEquals(0, idle.value(WAITING));
        assertEquals(2, idle.value(REQUESTS, "finished_reason", "rejected") - rejectedBefore, "both refusals counted");

        HttpResponse<String> served = chat(body(false, 4));
        assertEquals(200, served.statusCode(), served.body());
        assertEquals(4, JSON.readTree(served.body()).path("usage").path("completion_tokens").asInt());
    }
}
