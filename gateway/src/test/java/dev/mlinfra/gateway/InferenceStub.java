package dev.mlinfra.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Stands in for inference-service (and every other service) behind the gateway under test: an
 * HTTP server written here, since what is tested is the gateway's side of the exchange.
 * <ul>
 * <li>{@code GET /v1/openai/models}: an OpenAI model list.</li>
 * <li>{@code POST /v1/openai/chat/completions} with {@code "stream": true}: server-sent events; the
 * first chunk is written at once, the rest only after {@code GET /release?id=<X-Stream-Id>} is
 * called on the stub itself. If no release comes within {@link #RELEASE_WAIT_SECONDS} the stream
 * ends with an {@code unreleased} event instead (a client behind a buffering proxy cannot have
 * seen the first chunk early enough to release it).</li>
 * <li>a path ending in {@code /slow}: answers only after the gateway's response timeout.</li>
 * <li>a body with {@code "delay_seconds": n}: echoed (as below) after n seconds, as a generation
 * answered whole would be.</li>
 * <li>a path ending in {@code /broken}: the connection is dropped without an answer.</li>
 * <li>anything else: echoes the method, path and the request headers it received.</li>
 * </ul>
 * The inference area gets a low limit so a test can exhaust it.
 */
public class InferenceStub implements QuarkusTestResourceLifecycleManager {

    /** Requests per key and minute in the inference area while these tests run. */
    public static final int INFERENCE_LIMIT = 5;
    static final int RELEASE_WAIT_SECONDS = 20;
    private static final int SLOW_SECONDS = 5;
    /** Plain Jackson: this server runs outside the application, beside its JSON setup. */
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, CountDownLatch> streams = new ConcurrentHashMap<>();
    private HttpServer server;
    private ExecutorService executor;

    @Override
    public Map<String, String> start() {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        executor = Executors.newCachedThreadPool();
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
        String url = "http://127.0.0.1:" + server.getAddress().getPort();
        Map<String, String> config = new HashMap<>();
        for (String service : new String[] {"training", "datasets", "registry", "inference", "infrastructure"}) {
            config.put("mlinfra.gateway.services." + service + ".url", url);
        }
        config.put("mlinfra.gateway.proxy.response-timeout", "PT2S");
        config.put("mlinfra.gateway.proxy.generation-response-timeout", "PT10S");
        config.put("mlinfra.gateway.rate-limit.limits.inference", String.valueOf(INFERENCE_LIMIT));
        config.put("mlinfra.gateway.rate-limit.limits.admin", "100000");
        config.put("mlinfra.gateway.auth.bootstrap-api-key", GatewayTestBackends.BOOTSTRAP_KEY);
        return config;
    }

    @Override
    public void stop() {
        if (server != null) {
            server.stop(0);
        }
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        String method = exchange.getRequestMethod();
        String path = exchange.getRequestURI().getPath();
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        if (path.equals("/release")) {
            String id = exchange.getRequestURI().getQuery().replaceFirst("^id=", "");
            streams.computeIfAbsent(id, k -> new CountDownLatch(1)).countDown();
            respond(exchange, 200, JSON.createObjectNode().put("released", id));
        } else if (path.endsWith("/slow")) {
            sleep(SLOW_SECONDS);
            respond(exchange, 200, JSON.createObjectNode().put("late", true));
        } else if (path.endsWith("/broken")) {
            // An exception out of a handler makes the JDK server drop the connection unanswered.
            throw new IllegalStateException("dropping the connection on purpose");
        } else if (method.equals("GET") && path.equals("/v1/openai/models")) {
            ObjectNode models = JSON.createObjectNode().put("object", "list");
            models.putArray("data").addObject().put("id", "team-model").put("object", "model").put("owned_by", "team");
            respond(exchange, 200, models);
        } else if (method.equals("POST") && path.equals("/v1/openai/chat/completions")
                && !body.isBlank() && JSON.readTree(body).path("stream").asBoolean(false)) {
            stream(exchange, exchange.getRequestHeaders().getFirst("X-Stream-Id"));
        } else {
            if (!body.isBlank() && body.startsWith("{") && JSON.readTree(body).has("delay_seconds")) {
                sleep(JSON.readTree(body).get("delay_seconds").asInt());
            }
            ObjectNode echo = JSON.createObjectNode().put("method", method).put("path", path);
            ObjectNode headers = echo.putObject("headers");
            exchange.getRequestHeaders().forEach((name, values) -> headers.put(name.toLowerCase(Locale.ROOT), values.get(0)));
            respond(exchange, 200, echo);
        }
    }

    private void stream(HttpExchange exchange, String id) throws IOException {
        Headers headers = exchange.getResponseHeaders();
        headers.set("Content-Type", "text/event-stream");
        headers.set("Cache-Control", "no-cache");
        exchange.sendResponseHeaders(200, 0);
        try (OutputStream out = exchange.getResponseBody()) {
            event(out, "{\"id\":\"c-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}]}");
            boolean released = await(streams.computeIfAbsent(id, k -> new CountDownLatch(1)));
            if (released) {
                event(out, "{\"id\":\"c-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" world\"}}]}");
            } else {
                event(out, "{\"unreleased\":true}");
            }
            event(out, "[DONE]");
        }
    }

    private static void event(OutputStream out, String data) throws IOException {
        out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static boolean await(CountDownLatch latch) {
        try {
            return latch.await(RELEASE_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void sleep(int seconds) {
        try {
            Thread.sleep(seconds * 1000L);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void respond(HttpExchange exchange, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
