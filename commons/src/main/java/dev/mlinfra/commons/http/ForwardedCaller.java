package dev.mlinfra.commons.http;

import dev.mlinfra.commons.identity.IdentityTokens;
import io.quarkus.vertx.http.runtime.CurrentVertxRequest;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.core.MultivaluedHashMap;
import jakarta.ws.rs.core.MultivaluedMap;
import org.eclipse.microprofile.rest.client.ext.ClientHeadersFactory;

/**
 * The headers of a call from one service to another on behalf of the request being served: the
 * caller's identity token (the peer scopes its answer to the same team and checks the same
 * signature) and the request id (one id through every service's log). Typed REST clients name it
 * with {@code @RegisterClientHeaders(ForwardedCaller.class)}.
 */
@ApplicationScoped
public class ForwardedCaller implements ClientHeadersFactory {

    private final CurrentVertxRequest request;

    public ForwardedCaller(CurrentVertxRequest request) {
        this.request = request;
    }

    @Override
    public MultivaluedMap<String, String> update(MultivaluedMap<String, String> incoming,
            MultivaluedMap<String, String> outgoing) {
        MultivaluedMap<String, String> headers = new MultivaluedHashMap<>();
        var ctx = request.getCurrent();
        if (ctx != null) {
            String token = ctx.request().getHeader(IdentityTokens.HEADER);
            if (token != null) {
                headers.putSingle(IdentityTokens.HEADER, token);
            }
            Object id = ctx.get(RequestIds.KEY);
            if (id != null) {
                headers.putSingle(RequestIds.HEADER, id.toString());
            }
        }
        return headers;
    }
}
