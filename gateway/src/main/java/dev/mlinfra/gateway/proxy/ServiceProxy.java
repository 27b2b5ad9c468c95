package dev.mlinfra.gateway.proxy;

import dev.mlinfra.commons.error.ErrorCode;
import dev.mlinfra.commons.http.EventLoopHttpClients;
import dev.mlinfra.commons.http.Redaction;
import dev.mlinfra.commons.http.RequestIds;
import dev.mlinfra.commons.identity.IdentityTokens;
import dev.mlinfra.gateway.config.GatewayConfig;
import dev.mlinfra.gateway.error.ErrorResponses;
import dev.mlinfra.gateway.route.ErrorStyle;
import dev.mlinfra.gateway.route.Route;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.ext.web.RoutingContext;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.ConnectException;
import java.net.URI;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;

/**
 * Streams a request to its service and the answer back: bodies flow chunk by chunk with back
 * pressure in both directions and are never held whole (so server-sent events arrive as they
 * are written), except an answer of known length up to 64 KiB, which leaves in one write. Forwards the caller's identity as a signed token instead of the API key, which
 * never reaches a service in either of the headers that can carry it.
 */
@ApplicationScoped
public class ServiceProxy {

    private static final Logger LOG = Logger.getLogger(ServiceProxy.class);
    /** Seconds a client is asked to wait (Retry-After) when a service cannot be reached. */
    private static final String UNAVAILABLE_RETRY_AFTER = "5";
    /** Answers of at most this many bytes, of known length, are relayed whole. */
    private static final long WHOLE_ANSWER = 64 * 1024;

    /**
     * Connection-scoped headers (RFC 9110 7.6.1) and credentials that must not travel on: the
     * caller's API key ({@code x-api-key} or {@code Authorization: Bearer}); the identity token
     * stands for it.
     */
    private static final Set<String> NOT_FORWARDED = caseInsensitive("connection", "keep-alive", "proxy-authenticate",
            "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host",
            "x-api-key", "authorization", IdentityTokens.HEADER, "x-request-id", "expect");

    private record Target(String name, String host, int port, boolean tls) {
    }

    private final Map<String, Target> targets = new HashMap<>();
    /** One client per event loop: a proxied request never hops between threads. */
    private final EventLoopHttpClients clients;
    private final long maxBody;
    private final long maxUpload;
    private final long connectTimeoutMillis;
    private final long responseTimeoutMillis;
    private final long generationResponseTimeoutMillis;
    private final long uploadResponseTimeoutMillis;

    public ServiceProxy(Vertx vertx, GatewayConfig config) {
        config.services().forEach((name, backend) -> {
            URI uri = URI.create(backend.url());
            boolean tls = "https".equalsIgnoreCase(uri.getScheme());
            int port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
            targets.put(name, new Target(name, uri.getHost(), port, tls));
        });
        this.maxBody = config.proxy().maxBodySize().asLongValue();
        this.maxUpload = config.proxy().maxUploadSize().asLongValue();
        this.connectTimeoutMillis = config.proxy().connectTimeout().toMillis();
        this.responseTimeoutMillis = config.proxy().responseTimeout().toMillis();
        this.generationResponseTimeoutMillis = config.proxy().generationResponseTimeout().toMillis();
        this.uploadResponseTimeoutMillis = config.proxy().uploadResponseTimeout().toMillis();
        this.clients = new EventLoopHttpClients(vertx, new HttpClientOptions()
                .setKeepAlive(true)
                .setMaxPoolSize(config.proxy().maxConnectionsPerService())
                .setConnectTimeout((int) connectTimeoutMillis)
                .setDecompressionSupported(false)
                .setTcpNoDelay(true));
    }

    @PreDestroy
    void close() {
        clients.close();
    }

    public void forward(RoutingContext ctx, Route route, String identityToken) {
        HttpServerRequest req = ctx.request();
        Target target = targets.get(route.service());
        if (target == null) {
            reject(ctx, route.errors(), ErrorCode.SERVICE_UNAVAILABLE,
                    "No address is configured for the " + route.service() + " service");
            return;
        }
        long limit = route.upload() ? maxUpload : maxBody;
        String contentLength = req.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (contentLength != null && parseLength(contentLength) > limit) {
            tooLarge(ctx, route.errors(), limit);
            return;
        }
        RequestOptions options = new RequestOptions()
                .setMethod(req.method())
                .setHost(target.host)
                .setPort(target.port)
                .setSsl(target.tls)
                .setURI(req.uri())
                .setIdleTimeout(silence(route))
                .setConnectTimeout(connectTimeoutMillis);
        MultiMap headers = options.getHeaders() == null ? MultiMap.caseInsensitiveMultiMap() : options.getHeaders();
        for (Map.Entry<String, String> h : req.headers()) {
            if (!NOT_FORWARDED.contains(h.getKey())) {
                headers.add(h.getKey(), h.getValue());
            }
        }
        String requestId = ctx.get(RequestIds.KEY);
        headers.set(IdentityTokens.HEADER, identityToken);
        headers.set(RequestIds.HEADER, requestId);
        headers.set("X-Forwarded-Proto", req.scheme());
        if (req.authority() != null) {
            headers.set("X-Forwarded-Host", req.authority().toString());
        }
        if (req.remoteAddress() != null) {
            headers.set("X-Forwarded-For", req.remoteAddress().hostAddress());
        }
        options.setHeaders(headers);
        long started = System.nanoTime();

        clients.get().request(options).onComplete(opened -> {
            if (opened.failed()) {
                backendFailed(ctx, route, target, opened.cause());
                return;
            }
            HttpClientRequest upstream = opened.result();
            if (contentLength != null) {
                upstream.putHeader(HttpHeaders.CONTENT_LENGTH, contentLength);
            }
            upstream.response().onComplete(answered -> {
                if (answered.failed()) {
                    backendFailed(ctx, route, target, answered.cause());
                    return;
                }
                relayResponse(ctx, target, answered.result(), started);
            });
            ctx.response().closeHandler(v -> {
                if (!ctx.response().ended()) {
                    upstream.reset();
                }
            });
            if ("100-continue".equalsIgnoreCase(req.getHeader(HttpHeaders.EXPECT))) {
                if (route.upload()) {
                    // The service says whether it takes the upload (its URL valid, unused, the caller's): its
                    // "100 Continue" is passed on, and a refusal comes before the client sends gigabytes.
                    upstream.putHeader(HttpHeaders.EXPECT, "100-continue");
                    upstream.continueHandler(v -> {
                        if (!ctx.response().headWritten()) {
                            ctx.response().writeContinue();
                        }
                    });
                    if (contentLength == null) {
                        upstream.setChunked(true);
                    }
                    // The head goes now: the client sends nothing before the service's answer to it.
                    upstream.sendHead();
                } else {
                    // Authenticated, allowed and connected: the client may send its body now.
                    ctx.response().writeContinue();
                }
            }
            streamBody(ctx, route.errors(), req, upstream, limit, contentLength);
        });
    }

    private void streamBody(RoutingContext ctx, ErrorStyle errors, HttpServerRequest req, HttpClientRequest upstream,
            long limit, String contentLength) {
        if (req.isEnded()) {
            upstream.end();
            return;
        }
        long[] seen = {0};
        boolean[] aborted = {false};
        req.handler(chunk -> {
            if (aborted[0]) {
                return;
            }
            seen[0] += chunk.length();
            if (seen[0] > limit) {
                aborted[0] = true;
                // answered first: the reset fails the exchange with the service, which would answer 502
                tooLarge(ctx, errors, limit);
                upstream.reset();
                return;
            }
            if (chunk.length() == 0) {
                return; // HTTP/2 may end a stream with an empty frame: nothing to send
            }
            if (contentLength == null && !upstream.isChunked()) {
                // A body of unknown length (chunked over HTTP/1.1; HTTP/2 needs no Content-Length) goes on chunked.
                upstream.setChunked(true);
            }
            upstream.write(chunk);
            if (upstream.writeQueueFull()) {
                req.pause();
                upstream.drainHandler(v -> req.resume());
            }
        });
        req.exceptionHandler(e -> {
            aborted[0] = true;
            upstream.reset();
        });
        req.endHandler(v -> {
            if (!aborted[0]) {
                upstream.end();
            }
        });
        req.resume();
    }

    private void relayResponse(RoutingContext ctx, Target target, HttpClientResponse upstream, long started) {
        HttpServerResponse response = ctx.response();
        if (response.ended() || response.headWritten()) {
            upstream.request().reset();
            return;
        }
        response.setStatusCode(upstream.statusCode());
        response.setStatusMessage(upstream.statusMessage());
        if (upstream.statusCode() >= 400 && !ctx.request().isEnded()) {
            // Refused before the client sent its whole body (e.g. before "100 Continue"): the rest is not read.
            response.putHeader(HttpHeaders.CONNECTION, "close");
        }
        for (Map.Entry<String, String> h : upstream.headers()) {
            if (!NOT_FORWARDED.contains(h.getKey())) {
                response.headers().add(h.getKey(), h.getValue());
            }
        }
        String length = upstream.headers().get(HttpHeaders.CONTENT_LENGTH);
        if (length == null) {
            response.setChunked(true);
        } else if (parseLength(length) <= WHOLE_ANSWER) {
            // Small and of known length: read whole and sent with one write, instead of the head
            // with the body and then the end, each flushed on its own.
            upstream.body().onComplete(read -> {
                if (read.failed()) {
                    brokeOff(ctx, target, read.cause());
                } else {
                    response.end(read.result());
                    answered(ctx, target, upstream, started);
                }
            });
            return;
        }
        upstream.pipeTo(response).onComplete(done -> {
            if (done.failed()) {
                brokeOff(ctx, target, done.cause());
            } else {
                answered(ctx, target, upstream, started);
            }
        });
    }

    private static void brokeOff(RoutingContext ctx, Target target, Throwable cause) {
        LOG.warnf("Response of %s for %s %s broke off: %s", target.name, ctx.request().method(),
                Redaction.path(ctx.request().path()), cause.toString());
        ctx.response().reset();
    }

    private static void answered(RoutingContext ctx, Target target, HttpClientResponse upstream, long started) {
        if (LOG.isDebugEnabled()) {
            LOG.debugf("%s %s -> %s %d in %d ms", ctx.request().method(), Redaction.path(ctx.request().path()), target.name,
                    upstream.statusCode(), (System.nanoTime() - started) / 1_000_000);
        }
    }

    /** How long the route's service may stay silent before the gateway answers 504. */
    private long silence(Route route) {
        return switch (route.exchange()) {
            case ANSWER -> responseTimeoutMillis;
            case GENERATION -> generationResponseTimeoutMillis;
            case UPLOAD -> uploadResponseTimeoutMillis;
        };
    }

    private void backendFailed(RoutingContext ctx, Route route, Target target, Throwable cause) {
        ErrorStyle errors = route.errors();
        if (ctx.response().ended()) {
            return;
        }
        String name = target.name + " service";
        if (cause instanceof ConnectException || cause.getClass().getSimpleName().contains("ConnectTimeout")) {
            LOG.warnf("%s %s: %s is unreachable at %s:%d (%s)", ctx.request().method(), Redaction.path(ctx.request().path()), name,
                    target.host, target.port, cause.getMessage());
            // a service that restarts is back within seconds: say when to try again, as every other 503 does
            ctx.response().putHeader(HttpHeaders.RETRY_AFTER, UNAVAILABLE_RETRY_AFTER);
            reject(ctx, errors, ErrorCode.SERVICE_UNAVAILABLE, "The " + name + " is unavailable; retry in a few seconds");
        } else if (cause instanceof TimeoutException || cause.getClass().getSimpleName().contains("Timeout")) {
            LOG.warnf("%s %s: %s did not answer within %d ms", ctx.request().method(), Redaction.path(ctx.request().path()), name,
                    silence(route));
            reject(ctx, errors, ErrorCode.GATEWAY_TIMEOUT, "The " + name + " did not answer in time; retry later");
        } else {
            LOG.warnf("%s %s: exchange with %s failed: %s", ctx.request().method(), Redaction.path(ctx.request().path()), name,
                    cause.toString());
            reject(ctx, errors, ErrorCode.BAD_GATEWAY, "The " + name + " closed the connection before answering; retry later");
        }
    }

    private static void tooLarge(RoutingContext ctx, ErrorStyle errors, long limit) {
        // The rest of the body is not worth reading: close the connection after the answer.
        ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
        ErrorResponses.end(ctx, errors, ErrorCode.PAYLOAD_TOO_LARGE, "Request body exceeds the limit of " + limit + " bytes for this endpoint");
    }

    private static void reject(RoutingContext ctx, ErrorStyle errors, ErrorCode code, String message) {
        ctx.request().resume();
        ErrorResponses.end(ctx, errors, code, message);
    }

    /** Header names compared without regard to case, and without a lower-cased copy of each name per request. */
    private static Set<String> caseInsensitive(String... names) {
        Set<String> set = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        set.addAll(List.of(names));
        return Collections.unmodifiableSet(set);
    }

    private static long parseLength(String value) {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }
}
