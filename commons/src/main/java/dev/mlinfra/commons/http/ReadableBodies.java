package dev.mlinfra.commons.http;

import dev.mlinfra.commons.error.ApiException;
import io.vertx.core.http.HttpServerRequest;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * A request body that the service would read other than as sent (compressed, or in another
 * charset than UTF-8: 415; of a type given twice: 400) is refused saying so, before an endpoint
 * reads it as invalid JSON.
 */
public class ReadableBodies {

    /** Before the endpoint is chosen by the body's type: which of two types holds is anybody's guess. */
    @ServerRequestFilter(preMatching = true)
    public void oneType(HttpServerRequest request) {
        ApiException twice = HttpErrors.bodyHeaderGivenTwice(request);
        if (twice != null) {
            throw twice;
        }
    }

    @ServerRequestFilter
    public void readable(HttpServerRequest request) {
        ApiException unreadable = HttpErrors.unreadableBody(request);
        if (unreadable != null) {
            throw unreadable;
        }
    }
}
