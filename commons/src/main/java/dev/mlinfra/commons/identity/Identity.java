package dev.mlinfra.commons.identity;

import java.util.Set;

/** Who is calling: the API key, its team and its scopes, as vouched for by the gateway. */
public record Identity(String keyId, String team, Set<String> scopes) {

    public static final String SCOPE_READ = "read";
    public static final String SCOPE_WRITE = "write";
    public static final String SCOPE_ADMIN = "admin";
    public static final Set<String> ALL_SCOPES = Set.of(SCOPE_READ, SCOPE_WRITE, SCOPE_ADMIN);

    public Identity {
        scopes = Set.copyOf(scopes);
    }

    public boolean hasScope(String scope) {
        return scopes.contains(scope);
    }
}
