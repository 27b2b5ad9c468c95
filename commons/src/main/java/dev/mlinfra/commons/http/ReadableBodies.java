package dev.mlinfra.commons.http;

import dev.mlinfra.commons.error.ApiException;
import dev.mlinfra.commons.error.ErrorCode;
import io.vertx.core.http.HttpServerRequest;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * A request body that the service would read other than as sent (compressed, or in another
 * charset than UTF-8) is refused with a 415 saying so, before an endpoint reads it as invalid JSON.
 */
public class ReadableBodies {

    @ServerRequestFilter
    public void readable(HttpServerRequest request) {
        String unreadable = HttpErrors.unreadableBody(request);
        if (unreadable != null) {
            throw new ApiException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, unreadable);
        }
    }
}
