package dev.mlinfra.gateway.openapi;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;

/**
 * What the gateway holds of one service's OpenAPI document: the last copy it fetched (null
 * until one arrives), when, and since when fetching it fails (null while it succeeds).
 */
public record ServiceDocument(String service, ObjectNode document, Instant fetchedAt, Instant failingSince,
        String lastError) {

    public static ServiceDocument neverFetched(String service) {
        return new ServiceDocument(service, null, null, null, null);
    }

    public ServiceDocument fetched(ObjectNode document, Instant at) {
        return new ServiceDocument(service, document, at, null, null);
    }

    public ServiceDocument failed(String error, Instant at) {
        return new ServiceDocument(service, document, fetchedAt, failingSince == null ? at : failingSince, error);
    }

    public boolean available() {
        return document != null;
    }

    /** A copy is held but the service did not give a fresh one at the last attempt. */
    public boolean stale() {
        return document != null && failingSince != null;
    }
}
