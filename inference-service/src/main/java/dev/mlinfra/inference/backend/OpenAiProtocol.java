package dev.mlinfra.inference.backend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlinfra.commons.http.EventLoopHttpClients;
import dev.mlinfra.inference.backend.BackendException.Kind;
import dev.mlinfra.inference.config.InferenceConfig;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.MultiEmitter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.jboss.logging.Logger;

/**
 * The vLLM/OpenAI server API, as every serving backend speaks it: completions and chat
 * completions (whole or streamed), the model list and dynamic LoRA adapters. Each call has a
 * timeout; each server has a circuit breaker ({@link Circuit}), so a server that keeps failing is
 * refused at once instead of holding every request for its timeout. Only calls that change
 * nothing or can be repeated (listing, loading an adapter) are retried, never a generation.
 */
@ApplicationScoped
public class OpenAiProtocol {

    private static final Logger LOG = Logger.getLogger(OpenAiProtocol.class);
    private static final int ADMIN_ATTEMPTS = 3;

    private final EventLoopHttpClients clients;
    private final InferenceConfig.Calls config;
    private final ObjectMapper json;
    private final Map<String, Circuit> circuits = new ConcurrentHashMap<>();

    public OpenAiProtocol(Vertx vertx, InferenceConfig config, ObjectMapper json) {
        this.config = config.calls();
        this.json = json;
        this.clients = new EventLoopHttpClients(vertx, new HttpClientOptions()
                .setConnectTimeout((int) this.config.connectTimeout().toMillis())
                .setMaxPoolSize(64)
                .setKeepAlive(true));
    }

    @PreDestroy
    void close() {
        clients.close();
    }

    /**
     * {@code POST /v1/load_lora_adapter}: the server reads the adapter at {@code path} under
     * {@code name}; {@code pinned} (model-server's extension, which vLLM ignores) keeps it in memory
     * whatever the LRU says. An adapter the server has under that name already is no failure.
     */
    public Uni<Void> loadAdapter(URI server, String name, String path, boolean pinned) {
        ObjectNode body = json.createObjectNode().put("lora_name", name).put("lora_path", path).put("pinned", pinned);
        return admin(server, HttpMethod.POST, "/v1/load_lora_adapter", body).replaceWithVoid()
                .onFailure(e -> BackendException.refusal(e)
                        && e.getMessage() != null && e.getMessage().contains("already been loaded"))
                .recoverWithNull();
    }

    /** {@code POST /v1/unload_lora_adapter}; an adapter the server does not know is no failure. */
    public Uni<Void> unloadAdapter(URI server, String name) {
        ObjectNode body = json.createObjectNode().put("lora_name", name);
        return admin(server, HttpMethod.POST, "/v1/unload_lora_adapter", body).replaceWithVoid()
                .onFailure(e -> e instanceof BackendException b && b.status() == 404).recoverWithNull();
    }

    /** {@code GET /v1/models}. */
    public Uni<JsonNode> models(URI server) {
        return admin(server, HttpMethod.GET, "/v1/models", null).map(this::parse);
    }

    /** {@code GET /v1/models}, asked once: for a request on its way, which the server's own failure answers. */
    public Uni<JsonNode> modelsOnce(URI server) {
        return call(server, HttpMethod.GET, "/v1/models", null, config.adminTimeout()).map(this::parse);
    }

    /** A whole completion ({@code path} is {@code /v1/completions} or {@code /v1/chat/completions}); never retried. */
    public Uni<JsonNode> generate(URI server, String path, ObjectNode body) {
        return call(server, HttpMethod.POST, path, body, config.generationTimeout()).map(this::parse);
    }

    /**
     * A streamed completion: the JSON of each {@code data:} event, up to {@code [DONE]}. Cancelling
     * the stream (the client went away) resets the request, so the server stops generating.
     */
    public Multi<JsonNode> stream(URI server, String path, ObjectNode body) {
        return Multi.createFrom().emitter(emitter -> {
            Circuit circuit = circuit(server);
            if (!circuit.allow()) {
                emitter.fail(openCircuit(server));
                return;
            }
            AtomicBoolean done = new AtomicBoolean();
            RequestOptions options = options(server, HttpMethod.POST, path, config.generationTimeout());
            clients.get().request(options).onComplete(requested -> {
                if (requested.failed()) {
                    emitter.fail(failure(server, circuit, requested.cause()));
                    return;
                }
                HttpClientRequest request = requested.result();
                emitter.onTermination(() -> {
                    if (!done.get()) {
                        request.reset();
                    }
                });
                request.putHeader("content-type", "application/json").putHeader("accept", "text/event-stream");
                request.send(Buffer.buffer(bytes(body))).onComplete(answered -> {
                    if (emitter.isCancelled()) {
                        // the client went away and the request was reset for it: no failure of the server's
                        return;
                    }
                    if (answered.failed()) {
                        emitter.fail(failure(server, circuit, answered.cause()));
                        return;
                    }
                    HttpClientResponse response = answered.result();
                    if (response.statusCode() >= 300) {
                        response.body().onComplete(b -> emitter.fail(refusal(server, circuit, response.statusCode(),
                                b.succeeded() ? b.result() : Buffer.buffer())));
                        return;
                    }
                    circuit.succeeded();
                    SseLines lines = new SseLines(data -> emitData(emitter, done, data));
                    response.handler(chunk -> lines.feed(chunk.getBytes()));
                    response.exceptionHandler(e -> {
                        if (!emitter.isCancelled()) {
                            emitter.fail(new BackendException(Kind.FAILED, 0, "the stream from the server " + server + " broke off: "
                                    + describe(e), e));
                        }
                    });
                    response.endHandler(v -> {
                        done.set(true);
                        emitter.complete();
                    });
                });
            });
        });
    }

    private void emitData(MultiEmitter<? super JsonNode> emitter, AtomicBoolean done, String data) {
        if ("[DONE]".equals(data.strip())) {
            done.set(true);
            emitter.complete();
            return;
        }
        try {
            emitter.emit(json.readTree(data));
        } catch (IOException e) {
            emitter.fail(new BackendException(Kind.FAILED, 0, "the server sent an event that is not JSON: " + e.getMessage(), e));
        }
    }

    private Uni<Buffer> admin(URI server, HttpMethod method, String path, ObjectNode body) {
        return call(server, method, path, body, config.adminTimeout())
                .onFailure(e -> e instanceof BackendException && !BackendException.refusal(e))
                .retry().withBackOff(Duration.ofMillis(200), Duration.ofSeconds(2)).atMost(ADMIN_ATTEMPTS - 1);
    }

    /**
     * One request and its whole answer. Cancelling the call (its caller went away) resets the
     * request, so that the server stops what it does for it (a generation).
     */
    private Uni<Buffer> call(URI server, HttpMethod method, String path, ObjectNode body, Duration timeout) {
        return Uni.createFrom().<Buffer>emitter(emitter -> {
            Circuit circuit = circuit(server);
            if (!circuit.allow()) {
                emitter.fail(openCircuit(server));
                return;
            }
            AtomicBoolean over = new AtomicBoolean();
            AtomicReference<HttpClientRequest> sent = new AtomicReference<>();
            emitter.onTermination(() -> {
                if (over.compareAndSet(false, true) && sent.get() != null) {
                    sent.get().reset();
                }
            });
            clients.get().request(options(server, method, path, timeout))
                    .compose(request -> {
                        sent.set(request);
                        if (over.get()) {
                            request.reset();
                            return Future.failedFuture(new CancellationException());
                        }
                        if (body == null) {
                            return request.send();
                        }
                        return request.putHeader("content-type", "application/json").send(Buffer.buffer(bytes(body)));
                    })
                    .compose(response -> response.body().map(b -> {
                        if (response.statusCode() >= 300) {
                            throw refusal(server, circuit, response.statusCode(), b);
                        }
                        circuit.succeeded();
                        return b;
                    }))
                    .onComplete(result -> {
                        if (!over.compareAndSet(false, true)) {
                            return;
                        }
                        if (result.succeeded()) {
                            emitter.complete(result.result());
                        } else {
                            emitter.fail(result.cause() instanceof BackendException b ? b : failure(server, circuit, result.cause()));
                        }
                    });
        });
    }

    private RequestOptions options(URI server, HttpMethod method, String path, Duration timeout) {
        return new RequestOptions().setMethod(method).setAbsoluteURI(endpoint(server, path)).setIdleTimeout(timeout.toMillis());
    }

    /**
     * The URL of an API path ({@code /v1/...}) on a server: the path is appended to the server's own
     * path, so a server whose API lives under a prefix (KServe's {@code .../openai}) is called there.
     */
    static String endpoint(URI server, String path) {
        String base = server.toString();
        return (base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + path;
    }

    private Circuit circuit(URI server) {
        return circuits.computeIfAbsent(server.toString(),
                s -> new Circuit(config.circuitFailures(), config.circuitOpen(), Clock.systemUTC()));
    }

    /** Whether the server's circuit is open now (it failed {@code circuit-failures} times in a row). */
    public boolean circuitOpen(URI server) {
        Circuit c = circuits.get(server.toString());
        return c != null && c.isOpen();
    }

    private BackendException openCircuit(URI server) {
        return new BackendException(Kind.UNAVAILABLE, 0, "the server " + server + " failed " + config.circuitFailures()
                + " calls in a row; calls to it are paused for " + config.circuitOpen().toSeconds() + "s", null);
    }

    private BackendException failure(URI server, Circuit circuit, Throwable e) {
        if (circuit.failed()) {
            LOG.warnf("Pausing calls to %s for %ss after %d failures in a row: %s", server, config.circuitOpen().toSeconds(),
                    config.circuitFailures(), describe(e));
        }
        Kind kind = e instanceof ConnectException || e.getCause() instanceof ConnectException ? Kind.UNAVAILABLE : Kind.FAILED;
        return new BackendException(kind, 0, (kind == Kind.UNAVAILABLE ? "the server " + server + " cannot be reached: "
                : "the call to the server " + server + " failed: ") + describe(e), e);
    }

    private BackendException refusal(URI server, Circuit circuit, int status, Buffer body) {
        String message = errorMessage(body);
        if (status >= 500) {
            circuit.failed();
            return new BackendException(Kind.FAILED, status, "the server " + server + " answered " + status + ": " + message, null);
        }
        circuit.succeeded();
        return new BackendException(Kind.REJECTED, status, message, errorParam(body), null);
    }

    /** The parameter an OpenAI-shaped error body names ({@code error.param}), else null. */
    private String errorParam(Buffer body) {
        try {
            JsonNode param = json.readTree(body.toString(StandardCharsets.UTF_8)).path("error").path("param");
            return param.isTextual() ? param.asText() : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** The message of an OpenAI-shaped error body, else the body itself (cut short). */
    private String errorMessage(Buffer body) {
        String text = body.toString(StandardCharsets.UTF_8);
        try {
            JsonNode n = json.readTree(text);
            JsonNode m = n.path("error").path("message");
            if (m.isTextual()) {
                return m.asText();
            }
            if (n.path("message").isTextual()) {
                return n.path("message").asText();
            }
        } catch (IOException e) {
            // not JSON: vLLM answers load_lora_adapter in plain text
        }
        return text.length() > 300 ? text.substring(0, 300) + "..." : text;
    }

    private static String describe(Throwable e) {
        if (e instanceof TimeoutException || e.getClass().getSimpleName().contains("Timeout")) {
            return "no answer in time (" + e.getMessage() + ")";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private JsonNode parse(Buffer body) {
        try {
            return json.readTree(body.getBytes());
        } catch (IOException e) {
            throw new BackendException(Kind.FAILED, 0, "the server's answer is not JSON: " + e.getMessage(), e);
        }
    }

    private byte[] bytes(JsonNode body) {
        try {
            return json.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Splits a server-sent event stream into the data of its events (one {@code data:} line each, as vLLM sends). */
    static final class SseLines {

        private final java.util.function.Consumer<String> onData;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        SseLines(java.util.function.Consumer<String> onData) {
            this.onData = onData;
        }

        void feed(byte[] bytes) {
            for (byte b : bytes) {
                if (b == '\n') {
                    String l = line.toString(StandardCharsets.UTF_8);
                    line.reset();
                    if (l.endsWith("\r")) {
                        l = l.substring(0, l.length() - 1);
                    }
                    if (l.startsWith("data:")) {
                        onData.accept(l.substring(l.startsWith("data: ") ? 6 : 5));
                    }
                } else {
                    line.write(b);
                }
            }
        }
    }
}
