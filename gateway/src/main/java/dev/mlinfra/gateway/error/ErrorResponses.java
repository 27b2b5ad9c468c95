package dev.mlinfra.gateway.error;

import dev.mlinfra.commons.error.ErrorCode;
import dev.mlinfra.commons.http.HttpErrors;
import dev.mlinfra.gateway.route.ErrorStyle;
import dev.mlinfra.gateway.route.Route;
import dev.mlinfra.gateway.route.RouteTable;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

/** Ends a request with the gateway's own error, in the shape its route's clients parse. */
public final class ErrorResponses {

    private ErrorResponses() {
    }

    /** In the shape of the route that the request's raw path names (the contract's where none does). */
    public static void endByRawPath(RoutingContext ctx, ErrorCode code, String message) {
        end(ctx, RouteTable.resolve(ctx.request().method(), ctx.request().path()).map(Route::errors).orElse(ErrorStyle.CONTRACT),
                code, message);
    }

    public static void end(RoutingContext ctx, ErrorStyle style, ErrorCode code, String message) {
        if (style != ErrorStyle.OPENAI) {
            HttpErrors.end(ctx, code, message);
            return;
        }
        HttpServerResponse response = ctx.response();
        if (response.ended() || response.closed()) {
            return;
        }
        if (response.headWritten()) {
            // Too late for an error object: cut the stream so the client sees a failed transfer.
            response.reset();
            return;
        }
        response.setStatusCode(code.status())
                .putHeader("content-type", "application/json")
                .end(OpenAiError.of(code, message).toJson());
    }
}
