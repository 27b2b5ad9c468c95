package dev.mlinfra.gateway.error;

import dev.mlinfra.commons.error.ErrorCode;
import dev.mlinfra.commons.http.HttpErrors;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Failures that came before the gateway's filter (a path the HTTP layer's handlers cannot read) in
 * the shape of the route the raw path names: OpenAI's on /v1/openai, which its clients parse.
 */
@ApplicationScoped
public class UnroutedErrors implements HttpErrors.ErrorWriter {

    @Override
    public void end(RoutingContext ctx, ErrorCode code, String message) {
        ErrorResponses.endByRawPath(ctx, code, message);
    }
}
