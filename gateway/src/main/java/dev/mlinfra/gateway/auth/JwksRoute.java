package dev.mlinfra.gateway.auth;

import dev.mlinfra.commons.identity.IdentityTokens;
import io.quarkus.vertx.http.ManagementInterface;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Publishes the identity keys as a JWKS on the management interface: services reach that port,
 * users do not (the public port serves only /v1 and the API documentation).
 */
@ApplicationScoped
public class JwksRoute {

    /** Caches between gateway and services may keep the key set this long; each rotation step waits longer. */
    private static final String CACHE_CONTROL = "max-age=60";

    private final SigningKeys keys;

    public JwksRoute(SigningKeys keys) {
        this.keys = keys;
    }

    void publish(@Observes ManagementInterface management) {
        management.router().get(IdentityTokens.JWKS_PATH).handler(ctx -> ctx.response()
                .putHeader("content-type", "application/jwk-set+json")
                .putHeader("cache-control", CACHE_CONTROL)
                .end(keys.jwks()));
    }
}
