package dev.mlinfra.commons.http;

import dev.mlinfra.commons.error.ErrorCode;
import dev.mlinfra.commons.identity.IdentityFilter;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.UnauthorizedException;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import org.jboss.logging.Logger;

/**
 * Gives requests that no endpoint takes, and failures raised below JAX-RS (body limits,
 * broken connections), the contract's error object instead of the HTTP layer's plain text.
 */
@ApplicationScoped
public class FallbackRoutes {

    private static final Logger LOG = Logger.getLogger(FallbackRoutes.class);

    private final Instance<HttpErrors.ErrorWriter> unrouted;

    public FallbackRoutes(Instance<HttpErrors.ErrorWriter> unrouted) {
        this.unrouted = unrouted;
    }

    void register(@Observes Router router) {
        router.route().order(Integer.MAX_VALUE).handler(ctx -> HttpErrors.end(ctx, ErrorCode.NOT_FOUND,
                "No endpoint " + ctx.request().method() + " " + ctx.normalizedPath() + " in API v1"));
        router.route().order(Integer.MIN_VALUE).failureHandler(ctx -> {
            if (ctx.get(RequestIds.KEY) == null) {
                // failed before the request id filter ran (a path the HTTP layer's handlers cannot read)
                RequestIdFilter.assign(ctx);
            }
            if (ctx.get(HttpErrors.ERROR_WRITER) == null && unrouted.isResolvable()) {
                ctx.put(HttpErrors.ERROR_WRITER, unrouted.get());
            }
            if (ctx.failure() instanceof AuthenticationFailedException || ctx.failure() instanceof UnauthorizedException) {
                // an identity token that SmallRye JWT refused (forged, expired, another issuer or audience)
                IdentityFilter.refuse(ctx, ctx.failure().getMessage());
                return;
            }
            String invalidUri = ctx.failure() instanceof IllegalArgumentException ? RequestUris.problem(ctx.request().uri()) : null;
            if (invalidUri != null) {
                // a path that is no URI, where the HTTP layer's own check is off: a handler could not read it
                HttpErrors.endInRouteShape(ctx, ErrorCode.INVALID_REQUEST, invalidUri);
                return;
            }
            int status = ctx.statusCode();
            if (status < 400) {
                status = 500;
            }
            ErrorCode code = ErrorCode.forStatus(status);
            if (status >= 500) {
                LOG.errorf(ctx.failure(), "Request %s failed", (Object) ctx.get(RequestIds.KEY));
                HttpErrors.endInRouteShape(ctx, code.status() == status ? code : ErrorCode.INTERNAL_ERROR,
                        "Internal error; quote request id " + ctx.get(RequestIds.KEY) + " when reporting it");
            } else if (status == ErrorCode.PAYLOAD_TOO_LARGE.status()) {
                HttpErrors.endInRouteShape(ctx, code, "Request body is larger than this endpoint accepts");
            } else if (status == 400 && ctx.request().version() == HttpVersion.HTTP_1_1 && ctx.request().getHeader("host") == null) {
                // the router refuses such a request before any route
                HttpErrors.endInRouteShape(ctx, code, "An HTTP/1.1 request needs a Host header");
            } else {
                HttpErrors.endInRouteShape(ctx, code, "Invalid request: " + code.code().replace('_', ' '));
            }
        });
    }
}
