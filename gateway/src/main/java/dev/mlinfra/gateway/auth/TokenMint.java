package dev.mlinfra.gateway.auth;

import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.commons.identity.IdentityConfig;
import dev.mlinfra.commons.identity.IdentityTokenIssuer;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Issues the identity tokens forwarded to services: one per key, reused until shortly before it
 * expires, so signing stays off the per-request path.
 */
@ApplicationScoped
public class TokenMint {

    /** A token is replaced once less than this remains of its lifetime. */
    private static final Duration RENEW_BEFORE_EXPIRY = Duration.ofSeconds(60);
    private static final int MAX_REMEMBERED = 100_000;

    private final IdentityConfig config;
    private volatile IdentityTokenIssuer issuer;
    private final Map<String, IdentityTokenIssuer.Token> tokens = new ConcurrentHashMap<>();

    public TokenMint(IdentityConfig config) {
        this.config = config;
    }

    void onStart(@Observes StartupEvent event) {
        issuer = IdentityTokenIssuer.fromConfig(config);
    }

    public String tokenFor(Identity identity) {
        Instant renewAfter = Instant.now().plus(RENEW_BEFORE_EXPIRY);
        IdentityTokenIssuer.Token token = tokens.get(identity.keyId());
        if (token == null || token.expiresAt().isBefore(renewAfter)) {
            if (tokens.size() >= MAX_REMEMBERED) {
                tokens.clear();
            }
            token = issuer.issue(identity);
            tokens.put(identity.keyId(), token);
        }
        return token.value();
    }
}
