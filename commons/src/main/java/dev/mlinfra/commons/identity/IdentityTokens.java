package dev.mlinfra.commons.identity;

/**
 * Shared names of the internal identity token: a JWT signed by the gateway (header {@code kid}
 * names the signing key), subject = API key id, {@value #CLAIM_TEAM} = team, {@value #CLAIM_GROUPS}
 * = the key's scopes, which services see as roles ({@code @RolesAllowed("write")}).
 */
public final class IdentityTokens {

    /** Header that carries the token from the gateway to a service ({@code mp.jwt.token.header}). */
    public static final String HEADER = "x-mlinfra-identity";
    /** Routing-context key under which a verified {@link Identity} is kept. */
    public static final String CONTEXT_KEY = "mlinfra.identity";
    /** Path of the gateway's key set on its management interface. */
    public static final String JWKS_PATH = "/.well-known/jwks.json";

    public static final String CLAIM_TEAM = "team";
    /** MicroProfile JWT's claim for roles: the scopes of the API key. */
    public static final String CLAIM_GROUPS = "groups";

    private IdentityTokens() {
    }
}
