package dev.mlinfra.commons.identity;

import dev.mlinfra.commons.error.ErrorCode;
import dev.mlinfra.commons.http.HttpErrors;
import io.quarkus.security.identity.IdentityProviderManager;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.vertx.http.runtime.filters.Filters;
import io.quarkus.vertx.http.runtime.security.QuarkusHttpUser;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.json.JsonString;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.jwt.JsonWebToken;
import org.jboss.logging.Logger;

/**
 * Refuses every request under /v1 and /internal that does not carry a valid gateway-issued identity
 * token, with the contract's error object, so no service can be used around the gateway. SmallRye JWT
 * verifies the token (signature against the gateway's JWKS, issuer, audience, expiry); this filter
 * asks for that verification and turns the result into the {@link Identity} that {@link CurrentIdentity}
 * and Vert.x routes read. Health, metrics, build info and OpenAPI under /q stay open for probes.
 */
@ApplicationScoped
public class IdentityFilter {

    private static final Logger LOG = Logger.getLogger(IdentityFilter.class);
    /**
     * After Quarkus' authentication handler (priority 200) has put the deferred identity on the
     * request, before its authorization handler (100).
     */
    static final int PRIORITY = 120;
    /** The public API and the service-to-service API. */
    private static final List<String> GUARDED_PREFIXES = List.of("/v1/", "/internal/");
    private static final String REFUSAL =
            "This service only answers requests that come through the mlinfra gateway; send the request to the gateway with your x-api-key";

    private final IdentityConfig config;
    private final IdentityProviderManager identities;
    /** Where SmallRye JWT verifies tokens: the tokens verified before (none where it is off). */
    private final VerifiedTokens verifiedTokens;

    public IdentityFilter(IdentityConfig config, IdentityProviderManager identities, Instance<VerifiedTokens> verifiedTokens) {
        this.config = config;
        this.identities = identities;
        this.verifiedTokens = verifiedTokens.isResolvable() ? verifiedTokens.get() : null;
    }

    void register(@Observes Filters filters) {
        if (config.verify()) {
            filters.register(this::apply, PRIORITY);
        }
    }

    private void apply(RoutingContext ctx) {
        String path = ctx.normalizedPath();
        if (!guarded(path)) {
            ctx.next();
            return;
        }
        String token = ctx.request().getHeader(IdentityTokens.HEADER);
        if (token == null) {
            refuse(ctx, "no identity token");
            return;
        }
        SecurityIdentity remembered = verifiedTokens == null ? null : verifiedTokens.rememberedIdentity(token, ctx);
        if (remembered != null) {
            // Verified before: the request's identity at once, as Quarkus' own authentication would have set it.
            accept(ctx, QuarkusHttpUser.setIdentity(remembered, ctx));
            return;
        }
        QuarkusHttpUser.getSecurityIdentity(ctx, identities).subscribe().with(
                verified -> accept(ctx, verified),
                failure -> refuse(ctx, failure.getMessage()));
    }

    private static void accept(RoutingContext ctx, SecurityIdentity verified) {
        Optional<Identity> identity = identityOf(verified);
        if (identity.isEmpty()) {
            refuse(ctx, "the token names no team");
            return;
        }
        ctx.put(IdentityTokens.CONTEXT_KEY, identity.get());
        ctx.next();
    }

    private static boolean guarded(String path) {
        for (String prefix : GUARDED_PREFIXES) {
            if (path.startsWith(prefix)) {
                return true;
            }
        }
        return path.equals("/v1");
    }

    /** The caller of a verified token: the one {@link VerifiedTokens} remembered with it, or read from its claims. */
    static Optional<Identity> identityOf(SecurityIdentity verified) {
        if (verified == null || verified.isAnonymous() || !(verified.getPrincipal() instanceof JsonWebToken jwt)) {
            return Optional.empty();
        }
        if (verified.getAttribute(IdentityTokens.CONTEXT_KEY) instanceof Identity remembered) {
            return Optional.of(remembered);
        }
        Object claim = jwt.getClaim(IdentityTokens.CLAIM_TEAM);
        String team = claim instanceof JsonString json ? json.getString() : claim instanceof String text ? text : null;
        String keyId = jwt.getSubject();
        if (team == null || team.isBlank() || keyId == null) {
            return Optional.empty();
        }
        return Optional.of(new Identity(keyId, team, new HashSet<>(verified.getRoles())));
    }

    /** Answers 401 with the contract's error object; {@code why} goes to the debug log only. */
    public static void refuse(RoutingContext ctx, String why) {
        if (ctx.response().ended()) {
            return;
        }
        LOG.debugf("Refused %s %s: %s", ctx.request().method(), ctx.normalizedPath(), why);
        HttpErrors.end(ctx, ErrorCode.UNAUTHORIZED, REFUSAL);
    }
}
