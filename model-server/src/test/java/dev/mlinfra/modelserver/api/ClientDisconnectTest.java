package dev.mlinfra.modelserver.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.http.TestHTTPResource;
import dev.mlinfra.modelserver.config.ModelServerConfig;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.Test;

/**
 * Clients that hang up: their generation stops at the next token, or never starts when they left
 * while queued (behind a batch filled with endless generations); the server's log line says how
 * many tokens an abandoned generation had produced.
 */
@QuarkusTest
class ClientDisconnectTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The seeded scout base's context. */
    private static final int CONTEXT = 1024;
    private static final Pattern STOPPED = Pattern.compile("stopped generation on \\S+ after (\\d+) tokens");
    private static final Pattern SKIPPED = Pattern.compile("skipped generation on \\S+ .*queued");

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    @TestHTTPResource("/")
    URI server;

    @Inject
    ModelServerConfig config;

    private static Map<String, Object> endlessChat() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("messages", List.of(Map.of("role", "user", "content", RawStream.ENDLESS_PROMPT)));
        body.put("max_tokens", CONTEXT);
        body.put("temperature", 0);
        body.put("stream", true);
        return body;
    }

    /** A short completion, answered only once every generation queued before it has ended. */
    private JsonNode shortCompletion() throws Exception {
        Map<String, Object> body = Map.of("prompt", RawStream.ENDLESS_PROMPT, "max_tokens", 4, "temperature", 0);
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(server.resolve("/v1/completions"))
                .timeout(Duration.ofMinutes(2))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return JSON.readTree(response.body());
    }

    @Test
    void aClientThatHangsUpStopsItsStreamedGeneration() throws Exception {
        try (LogCapture logs = new LogCapture()) {
            try (RawStream stream = new RawStream(server, "/v1/completions", RawStream.endlessCompletion())) {
                JsonNode first = stream.nextEvent();
                assertEquals("text_completion", first.path("object").asText());
                assertTrue(first.path("choices").path(0).path("finish_reason").isNull(), "still generating");
            }

            JsonNode next = shortCompletion();
            assertEquals(4, next.path("usage").path("completion_tokens").asInt(),
                    "the server answers the next request");

            List<Integer> stopped = logs.await(STOPPED, 1).stream()
                    .map(m -> Integer.parseInt(m.group(1))).toList();
            assertEquals(1, stopped.size(), "one generation was stopped: " + logs.messages());
            int budget = CONTEXT - (RawStream.ENDLESS_PROMPT.length() + 1);
            assertTrue(stopped.get(0) < budget,
                    "stopped before generating its " + budget + " tokens, after " + stopped.get(0));
            assertEquals(List.of(), logs.errors(), "a hang-up is not an error");
        }
    }

    @Test
    void aRequestWhoseClientLeftWhileQueuedNeverRuns() throws Exception {
        try (LogCapture logs = new LogCapture()) {
            List<RawStream> running = new ArrayList<>();
            try {
                // Each answers its first text once it generates: together they fill the batch.
                for (int i = 0; i < config.maxNumSeqs(); i++) {
                    running.add(new RawStream(server, "/v1/completions", RawStream.endlessCompletion()));
                    running.get(i).nextEvent();
                }
                // A streamed chat answers its first chunk (the assistant role) once it is queued,
                // so this one is waiting behind the running completions when it hangs up.
                try (RawStream queued = new RawStream(server, "/v1/chat/completions", endlessChat())) {
                    JsonNode role = queued.nextEvent();
                    assertEquals("assistant", role.path("choices").path(0).path("delta").path("role").asText());
                }
                // Each connection's hang-up is seen by its own event loop: give the queued one's a
                // head start on the running ones', whose places it would otherwise take at once.
                Thread.sleep(1000);
            } finally {
                for (RawStream r : running) {
                    r.close();
                }
            }

            shortCompletion();

            assertEquals(1, logs.await(SKIPPED, 1).size(), "the queued request never ran: " + logs.messages());
            assertEquals(config.maxNumSeqs(), logs.await(STOPPED, config.maxNumSeqs()).size(),
                    "only the running ones generated: " + logs.messages());
            assertEquals(List.of(), logs.errors(), "a hang-up is not an error");
        }
    }

    /** Collects what model-server logs while a test runs. */
    private static final class LogCapture extends Handler implements AutoCloseable {
        private final Logger logger = Logger.getLogger("dev.mlinfra.modelserver");
        private final List<LogRecord> records = new CopyOnWriteArrayList<>();

        LogCapture() {
            setLevel(Level.ALL);
            logger.addHandler(this);
        }

        @Override
        public void publish(LogRecord record) {
            records.add(record);
        }

        private static String message(LogRecord record) {
            return record instanceof ExtLogRecord ext ? ext.getFormattedMessage() : record.getMessage();
        }

        List<String> messages() {
            return records.stream().map(LogCapture::message).toList();
        }

        List<String> errors() {
            return records.stream().filter(r -> r.getLevel().intValue() >= Level.SEVERE.intValue())
                    .map(LogCapture::message).toList();
        }

        /**
         * The INFO lines matching {@code pattern}, waiting a while for at least {@code count} of
         * them (a line is logged before the generation lock is released, so normally already there).
         */
        List<Matcher> await(Pattern pattern, int count) throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (true) {
                List<Matcher> found = new ArrayList<>();
                for (LogRecord r : records) {
                    Matcher m = pattern.matcher(message(r));
                    if (r.getLevel().intValue() == Level.INFO.intValue() && m.find()) {
                        found.add(m);
                    }
                }
                if (found.size() >= count || System.nanoTime() > deadline) {
                    return found;
                }
                Thread.sleep(50);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            logger.removeHandler(this);
        }
    }
}
