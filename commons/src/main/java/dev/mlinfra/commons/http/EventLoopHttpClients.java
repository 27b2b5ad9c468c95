package dev.mlinfra.commons.http;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One Vert.x HTTP client per event loop, so that a pooled connection belongs to the loop that
 * serves the request and a call never hops between threads. A single client shares its pool
 * among the loops: a request on one loop could get a connection of another, and then its write
 * and its answer each went through that other loop's queue (a thread to wake on each side, per
 * call). Callers off the event loops (workers, startup) share one more client.
 */
public final class EventLoopHttpClients {

    private final Vertx vertx;
    private final HttpClientOptions options;
    private final Map<Thread, HttpClient> perLoop = new ConcurrentHashMap<>();
    private final HttpClient offLoop;

    public EventLoopHttpClients(Vertx vertx, HttpClientOptions options) {
        this.vertx = vertx;
        this.options = new HttpClientOptions(options);
        this.offLoop = vertx.createHttpClient(this.options);
    }

    /** The client of the calling event loop; the shared one off the loops. */
    public HttpClient get() {
        Context context = Vertx.currentContext();
        if (context == null || !context.isEventLoopContext() || !Context.isOnEventLoopThread()) {
            return offLoop;
        }
        return perLoop.computeIfAbsent(Thread.currentThread(), loop -> vertx.createHttpClient(options));
    }

    public void close() {
        perLoop.values().forEach(HttpClient::close);
        offLoop.close();
    }
}
