package dev.mlinfra.gateway.auth;

import dev.mlinfra.commons.error.ErrorCode;
import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.gateway.ApiKey;
import dev.mlinfra.gateway.config.GatewayConfig;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.vertx.http.runtime.security.HttpAuthenticator;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.eclipse.microprofile.jwt.JsonWebToken;
import org.jboss.logging.Logger;
import org.jose4j.jwt.consumer.ErrorCodes;
import org.jose4j.jwt.consumer.InvalidJwtException;

/**
 * Sign-in with a Bearer JWT of an external OpenID Connect provider.
 * <p>
 * quarkus-oidc verifies the token: this asks Quarkus' HTTP authentication for the request's identity,
 * which runs the OIDC mechanism (bearer, service application): the tenant ({@code quarkus.oidc.<tenant>.*},
 * one per provider) is the one whose issuer the token names ({@code quarkus.oidc.resolve-tenants-with-issuer}),
 * the signature is checked against that provider's key set (discovered, cached, fetched again without
 * blocking when a token names an unknown key), then issuer, audience and expiry. Then the verified claims
 * name the caller: the team from the team claim, the scopes from the scopes claim (both configured per
 * provider, {@link GatewayConfig.Oidc}), and the subject {@code oidc:<tenant>:<sub>}, which rate limits count
 * like an API key id.
 * <p>
 * The token is never logged: refusals name what is wrong with it, not what it holds.
 */
@ApplicationScoped
public class OidcSignIn {

    private static final Logger LOG = Logger.getLogger(OidcSignIn.class);
    /** Starts the subject of every signed-in caller; API key ids (16 hex digits) never do. */
    public static final String SUBJECT_PREFIX = "oidc:";
    /** The attribute in which quarkus-oidc names the tenant that verified a token. */
    private static final String TENANT_ATTRIBUTE = "tenant-id";

    /** A signed-in caller, or why not: a 401 for a token that does not verify, a 403 for one that names no team. */
    public sealed interface Outcome {
        record SignedIn(Identity identity) implements Outcome {
        }

        record Refused(ErrorCode code, String reason) implements Outcome {
        }
    }

    /** The claim mapping of one provider. */
    record Claims(String teamClaim, Optional<String> teamPrefix, String scopesClaim, Optional<String> scopePrefix) {
    }

    private final GatewayConfig.Oidc config;
    private final Instance<HttpAuthenticator> authenticator;

    public OidcSignIn(GatewayConfig config, Instance<HttpAuthenticator> authenticator) {
        this.config = config.oidc();
        this.authenticator = authenticator;
        if (this.config.enabled()) {
            LOG.infof("Bearer JWTs are verified as sign-in tokens of the OIDC tenants configured under quarkus.oidc;"
                    + " team claim '%s', scopes claim '%s'; providers with a mapping of their own: %s",
                    this.config.teamClaim(), this.config.scopesClaim(), this.config.providers().keySet());
        }
    }

    /** Whether a Bearer JWT is a sign-in token here (else it is refused as an invalid API key). */
    public boolean enabled() {
        return config.enabled();
    }

    /** Whether an identity is that of a signed-in caller rather than of an API key. */
    public static boolean signedIn(Identity identity) {
        return identity.keyId().startsWith(SUBJECT_PREFIX);
    }

    /** Verifies the request's Bearer token and maps its claims; fails only when verification itself cannot run. */
    public Uni<Outcome> signIn(RoutingContext ctx) {
        return authenticator.get().attemptAuthentication(ctx)
                .map(this::outcome)
                .onFailure(AuthenticationFailedException.class).recoverWithItem(OidcSignIn::refusal);
    }

    private Outcome outcome(SecurityIdentity verified) {
        if (verified == null || verified.isAnonymous() || !(verified.getPrincipal() instanceof JsonWebToken jwt)) {
            // no tenant has the token's issuer
            return new Outcome.Refused(ErrorCode.UNAUTHORIZED, "The Bearer token is neither an API key nor issued by"
                    + " an identity provider this gateway accepts (unknown issuer); sign in with a configured provider"
                    + " or send an API key");
        }
        String tenant = String.valueOf((Object) verified.getAttribute(TENANT_ATTRIBUTE));
        return identityOf(tenant, claims(jwt.getRawToken()), claimsOf(tenant));
    }

    /** The identity a verified token's claims give, under a provider's claim mapping. */
    static Outcome identityOf(String tenant, JsonObject token, Claims claims) {
        String sub = token.getValue("sub") instanceof String s && !s.isBlank() ? s : null;
        if (sub == null) {
            return new Outcome.Refused(ErrorCode.UNAUTHORIZED, "The Bearer token of identity provider '" + tenant
                    + "' has no subject ('sub' claim); request a token issued to a user or client");
        }
        List<String> teamValues = values(token, claims.teamClaim(), false);
        String team = teamValues.stream()
                .filter(v -> claims.teamPrefix().map(v::startsWith).orElse(true))
                .map(v -> claims.teamPrefix().map(p -> v.substring(p.length())).orElse(v))
                .findFirst().orElse(null);
        if (team == null) {
            return new Outcome.Refused(ErrorCode.FORBIDDEN, "The token of identity provider '" + tenant + "' names no team:"
                    + " its claim '" + claims.teamClaim() + "' is missing"
                    + claims.teamPrefix().map(p -> " or has no value starting with '" + p + "'").orElse(" or empty")
                    + "; ask your identity provider's administrator to assign you to an mlinfra team");
        }
        if (!ApiKey.TEAM_NAME.matcher(team).matches()) {
            return new Outcome.Refused(ErrorCode.FORBIDDEN, "The team '" + team + "' that the token of identity provider '"
                    + tenant + "' names in its claim '" + claims.teamClaim() + "' is no valid team name: expected "
                    + ApiKey.TEAM_NAME_RULE);
        }
        Set<String> scopes = new LinkedHashSet<>();
        for (String value : values(token, claims.scopesClaim(), true)) {
            Optional<String> prefix = claims.scopePrefix();
            if (prefix.isPresent() && !value.startsWith(prefix.get())) {
                continue;
            }
            String scope = prefix.map(p -> value.substring(p.length())).orElse(value);
            if (Identity.ALL_SCOPES.contains(scope)) {
                scopes.add(scope);
            }
        }
        return new Outcome.SignedIn(new Identity(SUBJECT_PREFIX + tenant + ":" + sub, team, scopes));
    }

    /**
     * The string values of the claim named {@code path}, or else at {@code path} ('/' between nested
     * names): a string (split at whitespace when {@code spaceSeparated}, as OAuth's {@code scope}), or
     * the strings of an array.
     */
    static List<String> values(JsonObject token, String path, boolean spaceSeparated) {
        // a claim named like a URL (https://example.com/team, as some providers require) is one name
        Object value = token.getValue(path);
        if (value == null) {
            value = token;
            for (String name : path.split("/")) {
                value = value instanceof JsonObject object ? object.getValue(name) : null;
            }
        }
        List<String> values = new ArrayList<>();
        if (value instanceof String s) {
            for (String part : spaceSeparated ? s.strip().split("\\s+") : new String[] {s}) {
                if (!part.isBlank()) {
                    values.add(part);
                }
            }
        } else if (value instanceof JsonArray array) {
            array.forEach(item -> {
                if (item instanceof String s && !s.isBlank()) {
                    values.add(s);
                }
            });
        }
        return values;
    }

    private Claims claimsOf(String tenant) {
        GatewayConfig.OidcProvider own = config.providers().get(tenant);
        if (own == null) {
            return new Claims(config.teamClaim(), config.teamPrefix(), config.scopesClaim(), config.scopePrefix());
        }
        return new Claims(own.teamClaim().orElse(config.teamClaim()), own.teamPrefix().or(config::teamPrefix),
                own.scopesClaim().orElse(config.scopesClaim()), own.scopePrefix().or(config::scopePrefix));
    }

    /** The claims of a token that quarkus-oidc has verified. */
    private static JsonObject claims(String token) {
        String payload = token.substring(token.indexOf('.') + 1, token.lastIndexOf('.'));
        return new JsonObject(new String(Base64.getUrlDecoder().decode(payload), StandardCharsets.UTF_8));
    }

    /** A 401 that says what is wrong with the token (never what it holds). */
    private static Outcome refusal(Throwable failure) {
        InvalidJwtException invalid = null;
        for (Throwable t = failure; t != null && invalid == null; t = t.getCause()) {
            if (t instanceof InvalidJwtException e) {
                invalid = e;
            }
        }
        String reason;
        if (invalid != null && invalid.hasExpired()) {
            reason = "The Bearer token has expired; sign in again with your identity provider for a fresh one";
        } else if (invalid != null && (invalid.hasErrorCode(ErrorCodes.AUDIENCE_INVALID)
                || invalid.hasErrorCode(ErrorCodes.AUDIENCE_MISSING))) {
            reason = "The Bearer token was not issued for this API (its audience is not the one the gateway expects);"
                    + " request a token for the mlinfra API from your identity provider";
        } else if (invalid != null && invalid.hasErrorCode(ErrorCodes.ISSUER_INVALID)) {
            reason = "The Bearer token's issuer is not the identity provider it claims to come from";
        } else {
            reason = "The Bearer token does not verify: its signature, issuer or claims are not those of an identity"
                    + " provider this gateway accepts";
        }
        LOG.debugf("Sign-in token refused: %s", reason);
        return new Outcome.Refused(ErrorCode.UNAUTHORIZED, reason);
    }
}
