package dev.mlinfra.gateway.rest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlinfra.commons.api.Page;
import dev.mlinfra.commons.api.PageParams;
import dev.mlinfra.commons.error.ApiException;
import dev.mlinfra.commons.identity.CurrentIdentity;
import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.gateway.ApiKey;
import dev.mlinfra.gateway.service.ApiKeyService;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.extensions.Extension;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.jboss.resteasy.reactive.ResponseStatus;

/** Administration of API keys (admin scope; checked by the gateway filter before this runs). */
@Path("/v1/admin/api-keys")
@Produces(MediaType.APPLICATION_JSON)
public class ApiKeyResource {

    public record CreateKeyRequest(String team, List<String> scopes, String name) {
    }

    /**
     * A change of a key's own rate limits: area to requests per window, or null to return the
     * area to the configured limit. Values stay JSON until checked, so 1.5 or "10" is refused
     * rather than rounded or converted.
     */
    public record UpdateKeyRequest(Map<String, JsonNode> limits) {
    }

    /**
     * A key as listed: never its secret nor its hash. {@code limits}: requests per window of every
     * rate area as they apply to this key; {@code limit_overrides}: those an administrator set for
     * it, in place of the configured ones.
     */
    public record KeyView(String keyId, String team, String name, Set<String> scopes, Instant createdAt,
            String createdBy, String status, Instant revokedAt, Map<String, Integer> limits,
            Map<String, Integer> limitOverrides) {
    }

    /** A key just created: the only response that carries {@code api_key}. */
    public record CreatedKey(String keyId, String apiKey, String team, String name, Set<String> scopes,
            Instant createdAt, String createdBy, String status, Map<String, Integer> limits,
            Map<String, Integer> limitOverrides) {
    }

    public record RevokedKey(String keyId, String status, String message) {
    }

    private final ApiKeyService keys;
    private final CurrentIdentity caller;

    public ApiKeyResource(ApiKeyService keys, CurrentIdentity caller) {
        this.keys = keys;
        this.caller = caller;
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @ResponseStatus(201)
    @Operation(summary = "Create an API key for a team; the key is shown in this response only")
    @APIResponse(responseCode = "201", description = "Created; api_key holds the key")
    @APIResponse(responseCode = "400", description = "Invalid team, scopes or name: the error names the field")
    public Uni<CreatedKey> create(CreateKeyRequest request) {
        if (request == null) {
            throw ApiException.badRequest("Request body must be a JSON object with 'team', 'scopes' and 'name'");
        }
        if (request.scopes() != null && request.scopes().contains(null)) {
            throw ApiException.badRequest("Invalid field 'scopes': null is no scope; expected some of "
                    + new TreeSet<>(Identity.ALL_SCOPES));
        }
        Set<String> scopes = request.scopes() == null ? null : new TreeSet<>(request.scopes());
        return keys.create(request.team(), scopes, request.name(), caller.get())
                .map(c -> new CreatedKey(c.key().keyId, c.secret(), c.key().team, c.key().name,
                        new TreeSet<>(c.key().scopeSet()), c.key().createdAt, c.key().createdBy, "active",
                        keys.effectiveRateLimits(c.key()), new TreeMap<>(c.key().rateLimits)));
    }

    @GET
    @Operation(summary = "List API keys, newest first; filter by team and status (active, revoked)")
    @Extension(name = Page.ITEMS, value = "api_keys")
    public Uni<Page<KeyView>> list(@QueryParam("team") String team, @QueryParam("status") String status,
            @QueryParam("limit") String limit, @QueryParam("offset") String offset) {
        PageParams page = PageParams.parse(limit, offset);
        Boolean active = switch (status == null ? "" : status) {
            case "" -> null;
            case "active" -> Boolean.TRUE;
            case "revoked" -> Boolean.FALSE;
            default -> throw ApiException.badRequest("Invalid query parameter 'status': expected one of active, revoked, got '" + status + "'");
        };
        return keys.list(team, active, page).map(p -> Page.of("api_keys", p.items().stream().map(this::view).toList(),
                p.total(), page));
    }

    @GET
    @Path("/{key_id}")
    @Operation(summary = "One API key as listed (never its secret): team, scopes, status, limits")
    @APIResponse(responseCode = "200", description = "The key")
    @APIResponse(responseCode = "404", description = "No key has this id")
    public Uni<KeyView> get(@PathParam("key_id") String keyId) {
        return keys.find(keyId).map(this::view);
    }

    @PATCH
    @Path("/{key_id}")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Set or remove a key's own rate limits, e.g. {\"limits\": {\"inference\": 500, \"training\": null}};"
            + " every gateway replica applies them within seconds")
    @APIResponse(responseCode = "200", description = "The key with its limits")
    @APIResponse(responseCode = "400", description = "Invalid limits: the error names the rate area or the value")
    @APIResponse(responseCode = "404", description = "No key has this id")
    @APIResponse(responseCode = "409", description = "The key is revoked")
    public Uni<KeyView> update(@PathParam("key_id") String keyId, UpdateKeyRequest request) {
        if (request == null || request.limits() == null) {
            throw ApiException.badRequest("Invalid field 'limits': expected an object of rate areas to requests per window"
                    + " (a positive integer, or null for the configured limit)");
        }
        Map<String, Integer> changes = new LinkedHashMap<>();
        request.limits().forEach((area, value) -> changes.put(area, limit(area, value)));
        return keys.updateRateLimits(keyId, changes, caller.get()).map(this::view);
    }

    /** A limit as sent: null (back to the configured limit) or a positive integer that fits an int. */
    private static Integer limit(String area, JsonNode value) {
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt() || value.intValue() < 1) {
            throw ApiException.badRequest("Invalid field 'limits." + area + "': expected a positive integer (requests per window)"
                    + " up to " + Integer.MAX_VALUE + ", or null, got " + sent(value));
        }
        return value.intValue();
    }

    /** A value as the client wrote it, as far as it can be told: 1e999 is read as infinity, which it did not write. */
    private static String sent(JsonNode value) {
        return value.isNumber() && !Double.isFinite(value.doubleValue()) ? "a number beyond any limit" : value.toString();
    }

    private KeyView view(ApiKey key) {
        return new KeyView(key.keyId, key.team, key.name, new TreeSet<>(key.scopeSet()), key.createdAt,
                key.createdBy, key.active() ? "active" : "revoked", key.revokedAt, keys.effectiveRateLimits(key),
                new TreeMap<>(key.rateLimits));
    }

    @DELETE
    @Path("/{key_id}")
    @Operation(summary = "Revoke an API key; every gateway replica refuses it within seconds")
    @APIResponse(responseCode = "200", description = "Revoked")
    @APIResponse(responseCode = "404", description = "No key has this id")
    @APIResponse(responseCode = "409", description = "The key is revoked already")
    public Uni<RevokedKey> revoke(@PathParam("key_id") String keyId) {
        return keys.revoke(keyId, caller.get())
                .map(k -> new RevokedKey(k.keyId, "revoked", "API key revoked"));
    }
}
