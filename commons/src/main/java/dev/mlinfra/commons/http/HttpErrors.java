package dev.mlinfra.commons.http;

import dev.mlinfra.commons.error.ErrorBody;
import dev.mlinfra.commons.error.ErrorCode;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

/** Writes the contract's error object from Vert.x routes, where no JAX-RS mapper runs. */
public final class HttpErrors {

    private HttpErrors() {
    }

    public static void end(RoutingContext ctx, ErrorCode code, String message) {
        end(ctx.response(), code, message);
    }

    public static void end(HttpServerResponse response, ErrorCode code, String message) {
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
                .end(ErrorBody.of(code, message).toJson());
    }
}
