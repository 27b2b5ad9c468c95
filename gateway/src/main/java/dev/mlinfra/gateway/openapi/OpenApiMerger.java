package dev.mlinfra.gateway.openapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlinfra.commons.http.Redaction;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One OpenAPI document of the public API from the gateway's own and every service's: paths
 * under /v1 only, components de-duplicated (the same name with another definition is prefixed
 * with its service's name and its references rewritten), the API key schemes applied to every
 * operation, and the refusals the gateway answers itself (401, 403, 429, 500, 503, 504) with
 * the error object and the rate-limit headers referenced from shared components.
 * A service without a document yet is listed as unavailable, one whose copy is old as stale.
 */
public final class OpenApiMerger {

    public static final String GATEWAY = "gateway";
    public static final String STALE = "x-mlinfra-stale";
    public static final String UNAVAILABLE = "x-mlinfra-unavailable";
    public static final String SERVICES = "x-mlinfra-services";

    private static final String REF = "$ref";
    private static final String ERROR_REF = "#/components/schemas/Error";
    private static final List<String> COMPONENT_KINDS = List.of("schemas", "responses", "parameters", "examples",
            "requestBodies", "headers", "links", "callbacks", "pathItems");
    private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "options", "head", "patch", "trace");
    private static final String OPENAI_ERROR_REF = "#/components/schemas/OpenAiError";
    /** The OpenAI-compatible API, whose errors (the gateway's refusals too) take OpenAI's shape. */
    private static final String OPENAI_PATHS = "/v1/openai/";
    private static final List<String> RATE_LIMIT_HEADERS = List.of("X-RateLimit-Limit", "X-RateLimit-Remaining",
            "X-RateLimit-Reset", "RateLimit-Policy", "RateLimit");
    /** Answered by the gateway itself on every routed request, whatever the service documents. */
    private static final Map<String, String> GATEWAY_RESPONSES = new LinkedHashMap<>();

    static {
        GATEWAY_RESPONSES.put("401", "Unauthorized");
        GATEWAY_RESPONSES.put("403", "Forbidden");
        GATEWAY_RESPONSES.put("429", "TooManyRequests");
        GATEWAY_RESPONSES.put("500", "InternalError");
        GATEWAY_RESPONSES.put("503", "ServiceUnavailable");
        GATEWAY_RESPONSES.put("504", "GatewayTimeout");
    }

    private final ObjectMapper json;
    private final ObjectNode shared;

    public OpenApiMerger(ObjectMapper json) {
        this.json = json;
        try (InputStream in = OpenApiMerger.class.getResourceAsStream("shared-components.json")) {
            this.shared = (ObjectNode) json.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the shared OpenAPI components", e);
        }
    }

    /** The whole API: the gateway's document first, then the services' in name order. */
    public ObjectNode merge(ObjectNode gateway, List<ServiceDocument> services) {
        ObjectNode out = json.createObjectNode();
        out.put("openapi", gateway.path("openapi").asText("3.1.0"));
        ObjectNode info = out.putObject("info");
        info.put("title", "mlinfra API");
        info.put("version", gateway.path("info").path("version").asText("v1"));
        info.put("description", "The whole public API behind the gateway: its own endpoints and every service's."
                + " Authenticate with an API key in x-api-key or as a bearer token.");
        ArrayNode tags = out.putArray("tags");
        ObjectNode paths = out.putObject("paths");
        ObjectNode components = shared.deepCopy();
        out.putArray("security").add(requirement("ApiKey")).add(requirement("Bearer"));

        add(GATEWAY, gateway, paths, components);
        tags.addObject().put("name", GATEWAY).put("description", "API keys, answered by the gateway itself");
        ArrayNode states = info.putArray(SERVICES);
        states.addObject().put("service", GATEWAY).put("status", "available");
        ArrayNode stale = json.createArrayNode();
        ArrayNode unavailable = json.createArrayNode();
        services.stream().sorted(Comparator.comparing(ServiceDocument::service)).forEach(service -> {
            ObjectNode tag = tags.addObject().put("name", service.service());
            ObjectNode state = states.addObject().put("service", service.service());
            if (!service.available()) {
                // the document is public: what failed, not where the service runs
                String why = service.lastError() == null ? "not fetched yet" : Redaction.addresses(service.lastError());
                tag.put("description", "Unavailable: the gateway could not fetch this service's API document ("
                        + why + "); its endpoints are missing from this document");
                state.put("status", "unavailable").put("reason", why);
                if (service.failingSince() != null) {
                    state.put("since", service.failingSince().toString());
                }
                tag.set(UNAVAILABLE, state.deepCopy());
                unavailable.add(state.deepCopy());
                return;
            }
            add(service.service(), service.document(), paths, components);
            String title = service.document().path("info").path("title").asText(service.service());
            if (service.stale()) {
                tag.put("description", title + ". Stale: the service has not answered since " + service.failingSince()
                        + "; this is its document as fetched at " + service.fetchedAt());
                state.put("status", "stale").put("since", service.failingSince().toString())
                        .put("fetched_at", service.fetchedAt().toString()).put("reason", Redaction.addresses(service.lastError()));
                tag.set(STALE, state.deepCopy());
                stale.add(state.deepCopy());
            } else {
                tag.put("description", title);
                state.put("status", "available").put("fetched_at", service.fetchedAt().toString());
            }
        });
        if (!stale.isEmpty()) {
            info.set(STALE, stale);
        }
        if (!unavailable.isEmpty()) {
            info.set(UNAVAILABLE, unavailable);
        }
        paths.properties().forEach(path -> operations((ObjectNode) path.getValue())
                .forEach(op -> documentRefusals(op, path.getKey().startsWith(OPENAI_PATHS))));
        out.set("components", components);
        return out;
    }

    private ObjectNode requirement(String scheme) {
        ObjectNode requirement = json.createObjectNode();
        requirement.putArray(scheme);
        return requirement;
    }

    /** Adds a source's public paths and the components they may use, renaming clashing ones. */
    private void add(String service, ObjectNode document, ObjectNode paths, ObjectNode components) {
        ObjectNode source = publicPart(document);
        Map<String, String> renames = clashes(service, source.path("components"), components);
        rewrite(source, renames);
        JsonNode ownComponents = source.path("components");
        for (String kind : COMPONENT_KINDS) {
            JsonNode defined = ownComponents.path(kind);
            if (!defined.isObject()) {
                continue;
            }
            ObjectNode into = components.has(kind) ? (ObjectNode) components.get(kind) : components.putObject(kind);
            defined.properties().forEach(c -> {
                String target = renames.getOrDefault(ref(kind, c.getKey()), ref(kind, c.getKey()));
                into.putIfAbsent(target.substring(target.lastIndexOf('/') + 1), c.getValue());
            });
        }
        source.path("paths").properties().forEach(p -> {
            ObjectNode item = (ObjectNode) p.getValue();
            operations(item).forEach(op -> {
                ArrayNode tags = op.putArray("tags");
                tags.add(service);
                op.remove("security"); // the gateway authenticates every request: the global schemes apply
            });
            JsonNode existing = paths.get(p.getKey());
            if (existing == null) {
                paths.set(p.getKey(), item);
            } else {
                item.properties().forEach(m -> ((ObjectNode) existing).putIfAbsent(m.getKey(), m.getValue()));
            }
        });
    }

    /**
     * A copy of a source with its public paths only (internal ones and Quarkus' own, /q/..., are
     * not part of the API) and the components those paths use, directly or through each other.
     */
    private ObjectNode publicPart(ObjectNode document) {
        ObjectNode part = json.createObjectNode();
        ObjectNode paths = part.putObject("paths");
        document.path("paths").properties().forEach(p -> {
            if (p.getKey().startsWith("/v1/") && p.getValue().isObject()) {
                paths.set(p.getKey(), p.getValue().deepCopy());
            }
        });
        Set<String> used = new HashSet<>();
        Deque<JsonNode> pending = new ArrayDeque<>(List.of(paths));
        while (!pending.isEmpty()) {
            JsonNode node = pending.pop();
            JsonNode ref = node.get(REF);
            if (ref != null && ref.isTextual() && ref.asText().startsWith("#/components/") && used.add(ref.asText())) {
                pending.push(document.at(ref.asText().substring(1)));
            }
            node.forEach(pending::push);
        }
        ObjectNode components = part.putObject("components");
        for (String kind : COMPONENT_KINDS) {
            document.path("components").path(kind).properties().stream()
                    .filter(c -> used.contains(ref(kind, c.getKey())))
                    .forEach(c -> components.withObjectProperty(kind).set(c.getKey(), c.getValue().deepCopy()));
        }
        return part;
    }

    /**
     * The components of a source whose name is taken by another definition, with their new
     * reference. Repeated until stable: a schema can differ only through a reference to a renamed one.
     */
    private static Map<String, String> clashes(String service, JsonNode own, ObjectNode components) {
        Map<String, String> renames = new HashMap<>();
        boolean changed = true;
        while (changed) {
            changed = false;
            for (String kind : COMPONENT_KINDS) {
                JsonNode defined = own.path(kind);
                JsonNode taken = components.path(kind);
                if (!defined.isObject() || !taken.isObject()) {
                    continue;
                }
                for (Map.Entry<String, JsonNode> c : defined.properties()) {
                    String ref = ref(kind, c.getKey());
                    JsonNode existing = taken.get(c.getKey());
                    if (renames.containsKey(ref) || existing == null
                            || existing.equals(rewrite(c.getValue().deepCopy(), renames))) {
                        continue;
                    }
                    renames.put(ref, ref(kind, service + "." + c.getKey()));
                    changed = true;
                }
            }
        }
        return renames;
    }

    private static String ref(String kind, String name) {
        return "#/components/" + kind + "/" + name;
    }

    private static JsonNode rewrite(JsonNode node, Map<String, String> renames) {
        if (renames.isEmpty()) {
            return node;
        }
        if (node instanceof ObjectNode object) {
            JsonNode ref = object.get(REF);
            if (ref != null && ref.isTextual() && renames.containsKey(ref.asText())) {
                object.put(REF, renames.get(ref.asText()));
            }
            object.properties().forEach(e -> rewrite(e.getValue(), renames));
        } else if (node instanceof ArrayNode array) {
            array.forEach(e -> rewrite(e, renames));
        }
        return node;
    }

    private static List<ObjectNode> operations(ObjectNode pathItem) {
        return pathItem.properties().stream()
                .filter(e -> METHODS.contains(e.getKey()) && e.getValue().isObject())
                .map(e -> (ObjectNode) e.getValue())
                .toList();
    }

    /** The error object on each error a service documents, rate-limit headers on its answers, the gateway's own refusals. */
    private void documentRefusals(ObjectNode operation, boolean openAi) {
        ObjectNode responses = operation.get("responses") instanceof ObjectNode r ? r : operation.putObject("responses");
        for (Map.Entry<String, JsonNode> response : responses.properties()) {
            if (!(response.getValue() instanceof ObjectNode r) || r.has(REF)) {
                continue;
            }
            String status = response.getKey();
            if (status.startsWith("4") || status.startsWith("5")) {
                ObjectNode content = r.get("content") instanceof ObjectNode c ? c : r.putObject("content");
                if (content.isEmpty()) {
                    content.putObject("application/json").putObject("schema").put(REF, openAi ? OPENAI_ERROR_REF : ERROR_REF);
                }
            }
            if (!status.equals("401") && !status.equals("403")) {
                ObjectNode headers = r.get("headers") instanceof ObjectNode h ? h : r.putObject("headers");
                RATE_LIMIT_HEADERS.forEach(h -> headers.putIfAbsent(h, headerRef(h)));
                if (status.equals("429")) {
                    headers.putIfAbsent("Retry-After", headerRef("Retry-After"));
                }
            }
        }
        GATEWAY_RESPONSES.forEach((status, name) -> responses.putIfAbsent(status, responseRef(name, openAi)));
        // every endpoint refuses unknown and repeated query parameters; one with a body, bodies it cannot read
        responses.putIfAbsent("400", responseRef("BadRequest", openAi));
        if (operation.has("requestBody")) {
            responses.putIfAbsent("413", responseRef("PayloadTooLarge", openAi));
            responses.putIfAbsent("415", responseRef("UnsupportedMediaType", openAi));
        }
    }

    private ObjectNode responseRef(String name, boolean openAi) {
        return json.createObjectNode().put(REF, "#/components/responses/" + (openAi ? "OpenAi" : "") + name);
    }

    private ObjectNode headerRef(String name) {
        return json.createObjectNode().put(REF, "#/components/headers/" + name);
    }
}
