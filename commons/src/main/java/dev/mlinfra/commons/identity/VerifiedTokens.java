package dev.mlinfra.commons.identity;

import io.quarkus.arc.properties.IfBuildProperty;
import io.quarkus.cache.Cache;
import io.quarkus.cache.CacheName;
import io.quarkus.cache.CaffeineCache;
import io.quarkus.security.credential.TokenCredential;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.IdentityProvider;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.TokenAuthenticationRequest;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.quarkus.smallrye.jwt.runtime.auth.MpJwtValidator;
import io.quarkus.vertx.http.runtime.security.HttpSecurityUtils;
import io.smallrye.mutiny.Uni;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.microprofile.jwt.JsonWebToken;

/**
 * Verifies each identity token once, not on every request that carries it. The gateway forwards
 * one token per caller for minutes ({@code TokenMint}), and verifying it (an RSA signature, the
 * claims) was a third of a service's CPU on a small request; where the key set is a JWKS URL,
 * SmallRye JWT also verifies on a worker thread, so every request hopped off its event loop and
 * back. A token verified once is remembered until it expires (cache {@value #CACHE}, whose
 * expire-after-write is the tokens' lifetime); its later requests get the same identity at once, on
 * the event loop, with the caller's {@link Identity} that its claims gave the first time (reading a
 * custom claim from SmallRye JWT's principal throws and catches an exception inside it). A token
 * never verified goes to SmallRye JWT as before, so a token of an unknown or retired key, a forged or
 * expired one is refused as before. A key retired while tokens it signed are still valid keeps them
 * valid until they expire, which the rotation procedure waits for anyway (docs/IDENTITY.md).
 */
@ApplicationScoped
@IfBuildProperty(name = "quarkus.smallrye-jwt.enabled", stringValue = "true", enableIfMissing = true)
public class VerifiedTokens implements IdentityProvider<TokenAuthenticationRequest> {

    static final String CACHE = "verified-identity-tokens";

    private final MpJwtValidator validator;
    private final CaffeineCache verified;
    private final AtomicLong verifications = new AtomicLong();

    public VerifiedTokens(MpJwtValidator validator, @CacheName(CACHE) Cache verified) {
        this.validator = validator;
        this.verified = verified.as(CaffeineCache.class);
    }

    @Override
    public Class<TokenAuthenticationRequest> getRequestType() {
        return TokenAuthenticationRequest.class;
    }

    /** Before SmallRye JWT's own provider, which this one asks for tokens it has not seen. */
    @Override
    public int priority() {
        return validator.priority() + 1;
    }

    @Override
    public Uni<SecurityIdentity> authenticate(TokenAuthenticationRequest request, AuthenticationRequestContext context) {
        String token = request.getToken().getToken();
        Verified known = remembered(token);
        if (known != null) {
            return Uni.createFrom().item(known.identity(request.getToken(), HttpSecurityUtils.getRoutingContextAttribute(request)));
        }
        return validator.authenticate(request, context).invoke(identity -> {
            verifications.incrementAndGet();
            if (identity != null && identity.getPrincipal() instanceof JsonWebToken jwt) {
                verified.put(token, CompletableFuture.completedFuture(new Verified(jwt, Set.copyOf(identity.getRoles()),
                        IdentityFilter.identityOf(identity).orElse(null), jwt.getExpirationTime() * 1000)));
            }
        });
    }

    /**
     * The identity of a token verified before and not expired, for this request, without an
     * authentication round (mechanism, provider manager, {@link Uni}); null when the token has to be
     * verified. {@link IdentityFilter} asks this first.
     */
    SecurityIdentity rememberedIdentity(String token, RoutingContext request) {
        Verified known = remembered(token);
        return known == null ? null : known.identity(new TokenCredential(token, "bearer"), request);
    }

    private Verified remembered(String token) {
        CompletableFuture<Object> known = verified.getIfPresent(token);
        return known != null && known.isDone() && !known.isCompletedExceptionally()
                && known.join() instanceof Verified v && v.expiresAtMillis() > System.currentTimeMillis() ? v : null;
    }

    /** How many tokens this service has verified (not answered from memory) since it started. */
    public long verifications() {
        return verifications.get();
    }

    /**
     * A verified token with what its requests need, read from its claims once: its roles, the
     * caller's {@link Identity} (null when the token names no team, which {@link IdentityFilter}
     * refuses) and when it expires.
     */
    private record Verified(JsonWebToken jwt, Set<String> roles, Identity caller, long expiresAtMillis) {

        /** The identity SmallRye JWT builds for a verified token, for this request, with the caller's {@link Identity}. */
        SecurityIdentity identity(TokenCredential credential, RoutingContext routingContext) {
            QuarkusSecurityIdentity.Builder identity = QuarkusSecurityIdentity.builder()
                    .setPrincipal(jwt)
                    .addCredential(credential)
                    .addRoles(roles)
                    .addAttribute("quarkus.user", jwt);
            if (caller != null) {
                identity.addAttribute(IdentityTokens.CONTEXT_KEY, caller);
            }
            if (routingContext != null) {
                identity.addAttribute(RoutingContext.class.getName(), routingContext);
            }
            return identity.build();
        }
    }
}
