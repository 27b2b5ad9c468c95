package dev.mlinfra.gateway.auth;

import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.commons.identity.IdentityConfig;
import dev.mlinfra.commons.identity.IdentityTokens;
import io.quarkus.cache.Cache;
import io.quarkus.cache.CacheName;
import io.quarkus.cache.CaffeineCache;
import io.smallrye.jwt.algorithm.SignatureAlgorithm;
import io.smallrye.jwt.build.Jwt;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Issues the identity tokens forwarded to services, signed with the current key and naming it in
 * {@code kid}. One token per identity is reused from the cache {@value #CACHE}, whose
 * expire-after-write is shorter than the token lifetime, so signing stays off the per-request path
 * and a forwarded token always has time left. The cache is read without waiting: this runs on the
 * event loop, and two requests that miss together simply both sign.
 */
@ApplicationScoped
public class TokenMint {

    static final String CACHE = "identity-tokens";

    private final IdentityConfig config;
    private final SigningKeys keys;
    private final CaffeineCache tokens;

    public TokenMint(IdentityConfig config, SigningKeys keys, @CacheName(CACHE) Cache tokens) {
        this.config = config;
        this.keys = keys;
        this.tokens = tokens == null ? null : tokens.as(CaffeineCache.class);
    }

    public String tokenFor(Identity identity) {
        if (tokens != null) {
            CompletableFuture<String> cached = tokens.getIfPresent(identity);
            if (cached != null && cached.isDone() && !cached.isCompletedExceptionally()) {
                return cached.join();
            }
        }
        String token = sign(identity);
        if (tokens != null) {
            tokens.put(identity, CompletableFuture.completedFuture(token));
        }
        return token;
    }

    private String sign(Identity identity) {
        Instant now = Instant.now();
        return Jwt.issuer(config.issuer())
                .audience(config.audience())
                .subject(identity.keyId())
                .claim("jti", UUID.randomUUID().toString())
                .claim(IdentityTokens.CLAIM_TEAM, identity.team())
                .groups(identity.scopes())
                .issuedAt(now)
                .expiresAt(now.plus(config.tokenLifetime()))
                .jws()
                .algorithm(SignatureAlgorithm.RS256)
                .keyId(keys.currentKeyId())
                .sign(keys.currentKey());
    }
}
