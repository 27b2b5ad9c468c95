package dev.mlinfra.commons.http;

import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * {@code OPTIONS} on a path of this service's JAX-RS resources: 200 with the methods that path takes in
 * {@code Allow}, where JAX-RS would list every method of the resource class, paths of its others included.
 */
public class OptionsAnswer {

    private final AllowedMethods allowedMethods;

    public OptionsAnswer(AllowedMethods allowedMethods) {
        this.allowedMethods = allowedMethods;
    }

    @ServerRequestFilter(preMatching = true)
    public Response options(HttpServerRequest request) {
        if (request.method() != io.vertx.core.http.HttpMethod.OPTIONS) {
            return null;
        }
        String allow = allowedMethods.of(request.path());
        return allow == null ? null : Response.ok().header("Allow", allow).build();
    }
}
