package dev.mlinfra.commons.identity;

/** Shared names of the internal identity token. */
public final class IdentityTokens {

    /** Header that carries the token from the gateway to a service. */
    public static final String HEADER = "x-mlinfra-identity";
    /** Routing-context key under which a verified {@link Identity} is kept. */
    public static final String CONTEXT_KEY = "mlinfra.identity";

    static final String CLAIM_KEY_ID = "key_id";
    static final String CLAIM_TEAM = "team";
    static final String CLAIM_SCOPES = "scopes";

    private IdentityTokens() {
    }
}
