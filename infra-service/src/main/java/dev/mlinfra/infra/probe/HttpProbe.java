package dev.mlinfra.infra.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * One HTTP exchange with a component, bounded in time: the connection, the answer and its body must all
 * come within the timeout (a server that accepts and never answers is a timeout, not a hang).
 */
@ApplicationScoped
public class HttpProbe {

    /** What a component answered. */
    public record Answer(int status, String server, String body, long latencyMs) {
    }

    private final Vertx vertx;
    private final HttpClient client;

    public HttpProbe(Vertx vertx) {
        this.vertx = vertx;
        this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setMaxPoolSize(8)
                .setConnectTimeout(10_000));
    }

    @PreDestroy
    void close() {
        client.close();
    }

    public Uni<Answer> get(String base, String path, Map<String, String> headers, Duration timeout) {
        return exchange(HttpMethod.GET, base, path, headers, timeout);
    }

    public Uni<Answer> head(String base, String path, Duration timeout) {
        return exchange(HttpMethod.HEAD, base, path, Map.of(), timeout);
    }

    private Uni<Answer> exchange(HttpMethod method, String base, String path, Map<String, String> headers, Duration timeout) {
        long started = System.nanoTime();
        String url = URI.create(base.endsWith("/") ? base : base + "/").resolve(path.startsWith("/") ? path.substring(1) : path).toString();
        RequestOptions options = new RequestOptions().setMethod(method).setAbsoluteURI(url)
                .setConnectTimeout(timeout.toMillis()).setIdleTimeout(timeout.toMillis());
        headers.forEach(options::putHeader);
        return Uni.createFrom().completionStage(() -> onContext(() -> client.request(options)
                        .compose(request -> request.send())
                        .compose(response -> response.body().map(body -> new Answer(response.statusCode(),
                                response.getHeader("Server"), body.toString(), (System.nanoTime() - started) / 1_000_000))))
                        .toCompletionStage())
                .ifNoItem().after(timeout).failWith(() -> new TimeoutException("did not answer within " + timeout.toMillis() + " ms"))
                // The request's own idle timeout (the same time) may fire first: the same reason either way.
                .onFailure(e -> e instanceof TimeoutException || e.getCause() instanceof TimeoutException)
                .transform(e -> new TimeoutException("did not answer within " + timeout.toMillis() + " ms"));
    }

    /**
     * The exchange started on a Vert.x context. From a thread without one, each step's callback could
     * run on the caller's thread after the step had completed: the body's handler was then set after
     * the body had arrived, and the answer came with an empty body.
     */
    private <T> Future<T> onContext(Supplier<Future<T>> exchange) {
        if (Vertx.currentContext() != null) {
            return exchange.get();
        }
        Promise<T> done = Promise.promise();
        vertx.runOnContext(v -> exchange.get().onComplete(done));
        return done.future();
    }

    /** A JSON body as a tree; an empty object when it is none. */
    public static JsonNode tree(ObjectMapper json, String body) {
        try {
            JsonNode node = json.readTree(body);
            return node == null ? json.createObjectNode() : node;
        } catch (Exception e) {
            return json.createObjectNode();
        }
    }

    /** A failure as a reason a person can read. */
    public static String reason(Throwable e) {
        String message = e.getMessage();
        if (message == null || message.isBlank()) {
            message = e.getClass().getSimpleName();
        }
        return message;
    }
}
