package dev.mlinfra.commons.identity;

import dev.mlinfra.commons.error.ApiException;
import io.quarkus.vertx.http.runtime.CurrentVertxRequest;
import jakarta.enterprise.context.ApplicationScoped;

/** The verified caller of the request being handled. */
@ApplicationScoped
public class CurrentIdentity {

    private final CurrentVertxRequest request;

    public CurrentIdentity(CurrentVertxRequest request) {
        this.request = request;
    }

    public Identity get() {
        var ctx = request.getCurrent();
        Identity identity = ctx == null ? null : ctx.get(IdentityTokens.CONTEXT_KEY);
        if (identity == null) {
            throw ApiException.unauthorized("No verified caller for this request");
        }
        return identity;
    }

    /** The caller's team: every resource a service stores or returns is scoped to it. */
    public String team() {
        return get().team();
    }
}
