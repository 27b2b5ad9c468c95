package dev.mlinfra.gateway.http;

import dev.mlinfra.commons.error.ApiException;
import dev.mlinfra.commons.error.ErrorCode;
import dev.mlinfra.commons.http.HttpErrors;
import dev.mlinfra.commons.http.RequestUris;
import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.commons.identity.IdentityTokens;
import dev.mlinfra.gateway.auth.Authenticator;
import dev.mlinfra.gateway.auth.OidcSignIn;
import dev.mlinfra.gateway.auth.PresentedKey;
import dev.mlinfra.gateway.auth.TokenMint;
import dev.mlinfra.gateway.error.ErrorResponses;
import dev.mlinfra.gateway.proxy.ServiceProxy;
import dev.mlinfra.gateway.ratelimit.RateLimitHeaders;
import dev.mlinfra.gateway.ratelimit.RateLimiter;
import dev.mlinfra.gateway.route.Route;
import dev.mlinfra.gateway.route.RouteTable;
import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Map;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * The gateway's request path: route, authenticate the API key ({@code x-api-key} or
 * {@code Authorization: Bearer}) or the sign-in token of an OpenID Connect provider (a Bearer JWT,
 * where enabled), check the scope, count the request against its area's limit,
 * then either hand it to the gateway's own endpoints (/v1/admin) or stream it to its service.
 * {@code /q/openapi} is the whole API's document, merged here from the services' own.
 * Refusals take the error shape of the route (OpenAI's on /v1/openai).
 */
@ApplicationScoped
public class GatewayFilter {

    private static final Logger LOG = Logger.getLogger(GatewayFilter.class);
    /** After the request id filter of commons. */
    static final int PRIORITY = 500;
    /** Seconds to wait before retrying a request refused while the keys or the limits cannot be read. */
    private static final String UNAVAILABLE_RETRY_AFTER = "5";

    private final Authenticator authenticator;
    private final OidcSignIn signIn;
    private final RateLimiter rateLimiter;
    private final TokenMint tokens;
    private final ServiceProxy proxy;
    private final ApiDocumentEndpoint documents;

    public GatewayFilter(Authenticator authenticator, OidcSignIn signIn, RateLimiter rateLimiter, TokenMint tokens,
            ServiceProxy proxy, ApiDocumentEndpoint documents) {
        this.authenticator = authenticator;
        this.signIn = signIn;
        this.rateLimiter = rateLimiter;
        this.tokens = tokens;
        this.proxy = proxy;
        this.documents = documents;
    }

    void register(@Observes Filters filters) {
        filters.register(this::handle, PRIORITY);
    }

    void handle(RoutingContext ctx) {
        String invalid = RequestUris.problem(ctx.request().uri());
        if (invalid != null) {
            ErrorResponses.endByRawPath(ctx, ErrorCode.INVALID_REQUEST, invalid);
            return;
        }
        String path = ctx.normalizedPath();
        if (ApiDocumentEndpoint.serves(path)) {
            documents.handle(ctx);
            return;
        }
        if (path.startsWith("/q/swagger-ui")) {
            // the API's documentation; health and metrics answer on the management port only
            ctx.next();
            return;
        }
        Optional<Route> route = RouteTable.resolve(ctx.request().method(), path);
        if (route.isEmpty()) {
            HttpErrors.end(ctx, ErrorCode.NOT_FOUND, "No endpoint " + ctx.request().method() + " " + path
                    + (path.startsWith("/v1/") ? " in API v1" : "; the current API version is v1, under /v1/"));
            return;
        }
        RequestSize.Refusal tooLarge = RequestSize.check(ctx.request());
        if (tooLarge != null) {
            refuse(ctx, route.get(), tooLarge.code(), tooLarge.message());
            return;
        }
        PresentedKey presented = PresentedKey.of(ctx.request().headers().getAll(PresentedKey.API_KEY_HEADER),
                ctx.request().headers().getAll(HttpHeaders.AUTHORIZATION), signIn.enabled());
        if (presented instanceof PresentedKey.Refused refused) {
            refuse(ctx, route.get(), ErrorCode.UNAUTHORIZED, refused.reason());
            return;
        }
        if (presented instanceof PresentedKey.BearerToken) {
            signIn(ctx, route.get());
            return;
        }
        String key = ((PresentedKey.Key) presented).value();
        ctx.request().pause();
        authenticator.authenticate(key,
                authenticated -> {
                    if (authenticated.isEmpty()) {
                        refuse(ctx, route.get(), ErrorCode.UNAUTHORIZED, "Invalid or revoked API key");
                    } else {
                        authorized(ctx, route.get(), authenticated.get().identity(), authenticated.get().rateLimits());
                    }
                },
                failure -> {
                    LOG.errorf("Cannot look up API keys: %s", failure.toString());
                    unavailable(ctx, route.get(), "Authentication is unavailable right now; retry later");
                });
    }

    private void signIn(RoutingContext ctx, Route route) {
        ctx.request().pause();
        signIn.signIn(ctx).subscribe().with(
                outcome -> {
                    switch (outcome) {
                        case OidcSignIn.Outcome.SignedIn in -> authorized(ctx, route, in.identity(), Map.of());
                        case OidcSignIn.Outcome.Refused refused -> refuse(ctx, route, refused.code(), refused.reason());
                    }
                },
                failure -> {
                    LOG.errorf("Cannot verify a sign-in token: %s: %s", failure.getClass().getName(), failure.getMessage());
                    unavailable(ctx, route, "Sign-in is unavailable right now; retry later");
                });
    }

    /** {@code rateLimits}: the caller's own limits by area (empty: the configured ones). */
    private void authorized(RoutingContext ctx, Route route, Identity identity, Map<String, Integer> rateLimits) {
        if (!identity.hasScope(route.scope())) {
            String caller = OidcSignIn.signedIn(identity) ? "This sign-in token" : "This API key";
            refuse(ctx, route, ErrorCode.FORBIDDEN, caller + " lacks the '" + route.scope() + "' scope needed for "
                    + ctx.request().method() + " " + ctx.normalizedPath());
            return;
        }
        rateLimiter.acquire(identity.keyId(), route.area(), rateLimits,
                System.currentTimeMillis(),
                decision -> {
                    if (decision == null) {
                        pass(ctx, route, identity);
                        return;
                    }
                    long answeredAt = System.currentTimeMillis();
                    RateLimitHeaders.write(ctx.response(), decision, answeredAt);
                    if (!decision.allowed()) {
                        long retryAfter = decision.retryAfterSeconds(answeredAt);
                        LOG.infof("%s (team %s) over the %s limit of %d", OidcSignIn.signedIn(identity)
                                ? "Signed-in subject " + identity.keyId() : "Key " + identity.keyId(), identity.team(),
                                route.area(), decision.limit());
                        refuse(ctx, route, ErrorCode.RATE_LIMIT_EXCEEDED, "Rate limit of " + decision.limit()
                                + " requests per minute for the " + route.area() + " area exceeded; retry after "
                                + retryAfter + " seconds");
                        return;
                    }
                    pass(ctx, route, identity);
                },
                failure -> {
                    LOG.errorf(failure, "Rate-limit store failed");
                    unavailable(ctx, route, "Rate limiting is unavailable right now; retry later");
                });
    }

    private void pass(RoutingContext ctx, Route route, Identity identity) {
        ApiException unreadable = HttpErrors.unreadableBody(ctx.request());
        if (unreadable != null) {
            refuse(ctx, route, unreadable.code(), unreadable.getMessage());
            return;
        }
        if (route.local()) {
            RequestSize.Refusal tooLarge = RequestSize.checkLocalBody(ctx.request());
            if (tooLarge != null) {
                // the rest of the body is not worth reading
                ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
                refuse(ctx, route, tooLarge.code(), tooLarge.message());
                return;
            }
            ctx.put(IdentityTokens.CONTEXT_KEY, identity);
            if (ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH) == null && !ctx.request().isEnded()) {
                // a body of unknown length (chunked): read here, within the limit, and handed to the JAX-RS layer
                readLocalBody(ctx, route);
                return;
            }
            // The body is still paused; the JAX-RS layer resumes it when it reads it.
            ctx.next();
        } else {
            proxy.forward(ctx, route, tokens.tokenFor(identity));
        }
    }

    /**
     * Reads a body of the gateway's own endpoints whose length was not declared, refusing it (413, with
     * the error object) once it is larger than they take; the JAX-RS layer reads the body from the context.
     */
    private static void readLocalBody(RoutingContext ctx, Route route) {
        HttpServerRequest request = ctx.request();
        Buffer body = Buffer.buffer();
        boolean[] refused = {false};
        request.handler(chunk -> {
            if (refused[0]) {
                return;
            }
            if (body.length() + chunk.length() > RequestSize.MAX_LOCAL_BODY_BYTES) {
                refused[0] = true;
                ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
                RequestSize.Refusal tooLarge = RequestSize.localBodyOver();
                refuse(ctx, route, tooLarge.code(), tooLarge.message());
                return;
            }
            body.appendBuffer(chunk);
        });
        request.exceptionHandler(e -> refused[0] = true);
        request.endHandler(v -> {
            if (!refused[0]) {
                ctx.setBody(body);
                ctx.next();
            }
        });
        request.resume();
    }

    /** A 503 that says when to try again, as every other 503 of the platform does. */
    private static void unavailable(RoutingContext ctx, Route route, String message) {
        ctx.response().putHeader(HttpHeaders.RETRY_AFTER, UNAVAILABLE_RETRY_AFTER);
        refuse(ctx, route, ErrorCode.SERVICE_UNAVAILABLE, message);
    }

    private static void refuse(RoutingContext ctx, Route route, ErrorCode code, String message) {
        ctx.request().resume();
        ErrorResponses.end(ctx, route.errors(), code, message);
    }
}
