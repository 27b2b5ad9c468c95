package dev.mlinfra.gateway;

import java.time.Instant;
import java.util.Set;

/** A stored API key: everything but the key itself, of which only a hash is kept. */
public record ApiKey(String keyId, byte[] keyHash, String team, String name, Set<String> scopes, Instant createdAt,
        String createdBy, Instant revokedAt) {

    public boolean active() {
        return revokedAt == null;
    }
}
