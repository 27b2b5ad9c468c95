package dev.mlinfra.commons.identity;

import dev.mlinfra.commons.error.ErrorCode;
import dev.mlinfra.commons.http.HttpErrors;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

/**
 * Refuses every request under /v1 and /internal that does not carry a valid gateway-issued identity token,
 * so no service can be used around the gateway. Health, metrics, build info and OpenAPI under /q
 * stay open for the platform's probes.
 */
@ApplicationScoped
public class IdentityFilter {

    private static final Logger LOG = Logger.getLogger(IdentityFilter.class);
    /** After the request id filter, before every route. */
    static final int PRIORITY = 900;
    /** The public API and the service-to-service API. */
    private static final java.util.List<String> GUARDED_PREFIXES = java.util.List.of("/v1/", "/internal/");

    private final IdentityConfig config;
    private volatile IdentityTokenVerifier verifier;

    public IdentityFilter(IdentityConfig config) {
        this.config = config;
    }

    void onStart(@Observes StartupEvent event) {
        if (config.verify()) {
            verifier = IdentityTokenVerifier.fromConfig(config);
            LOG.infof("Identity tokens verified with the key in %s", config.publicKeyLocation().orElseThrow());
        }
    }

    void register(@Observes Filters filters) {
        if (config.verify()) {
            filters.register(this::apply, PRIORITY);
        }
    }

    private void apply(RoutingContext ctx) {
        String path = ctx.normalizedPath();
        if (GUARDED_PREFIXES.stream().noneMatch(path::startsWith) && !path.equals("/v1")) {
            ctx.next();
            return;
        }
        var identity = verifier.verify(ctx.request().getHeader(IdentityTokens.HEADER));
        if (identity.isEmpty()) {
            LOG.debugf("Refused %s %s: no valid identity token", ctx.request().method(), path);
            HttpErrors.end(ctx, ErrorCode.UNAUTHORIZED,
                    "This service only answers requests that come through the mlinfra gateway; send the request to the gateway with your x-api-key");
            return;
        }
        ctx.put(IdentityTokens.CONTEXT_KEY, identity.get());
        ctx.next();
    }
}
