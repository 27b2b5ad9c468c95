package dev.mlinfra.gateway.openapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class OpenApiMergerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");
    private final OpenApiMerger merger = new OpenApiMerger(JSON);

    private static ObjectNode doc(String json) {
        try {
            return (ObjectNode) JSON.readTree(json.replace('\'', '"'));
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static final ObjectNode GATEWAY = doc("{'openapi':'3.1.0','info':{'title':'gw','version':'v1'},"
            + "'paths':{'/v1/admin/api-keys':{'get':{'responses':{'200':{'description':'OK'}}}}}}");

    private static ObjectNode service(String path, String schemaName, String schemaType) {
        return doc("{'openapi':'3.1.0','info':{'title':'svc','version':'v1'},'paths':{"
                + "'" + path + "':{'get':{'responses':{'200':{'description':'OK','content':{'application/json':"
                + "{'schema':{'$ref':'#/components/schemas/" + schemaName + "'}}}},'404':{'description':'missing'}}}},"
                + "'/internal" + path + "':{'get':{'responses':{'200':{'description':'OK'}}}},"
                + "'/q/health':{'get':{'responses':{'200':{'description':'OK'}}}}},"
                + "'components':{'schemas':{'" + schemaName + "':{'type':'" + schemaType + "'}}}}");
    }

    @Test
    void keepsOnlyPublicPathsOfEverySource() {
        ObjectNode merged = merger.merge(GATEWAY, List.of(
                ServiceDocument.neverFetched("datasets").fetched(service("/v1/datasets", "Page", "object"), T0)));
        List<String> paths = JSON.convertValue(merged.path("paths"), java.util.Map.class).keySet().stream()
                .map(Object::toString).sorted().toList();
        assertEquals(List.of("/v1/admin/api-keys", "/v1/datasets"), paths);
        assertEquals("datasets", merged.at("/paths/~1v1~1datasets/get/tags/0").asText());
        assertEquals("gateway", merged.at("/paths/~1v1~1admin~1api-keys/get/tags/0").asText());
    }

    @Test
    void keepsOnlyTheComponentsThePublicPathsUse() {
        ObjectNode internalOnly = service("/v1/datasets", "Page", "object");
        ((ObjectNode) internalOnly.at("/components/schemas")).set("Resolved", doc("{'type':'object','properties':{"
                + "'uses':{'$ref':'#/components/schemas/Uses'}}}"));
        ((ObjectNode) internalOnly.at("/components/schemas")).set("Uses", doc("{'type':'array'}"));
        ((ObjectNode) internalOnly.at("/components/schemas/Page")).set("properties", doc("{'items':{'type':'array',"
                + "'items':{'$ref':'#/components/schemas/Item'}}}"));
        ((ObjectNode) internalOnly.at("/components/schemas")).set("Item", doc("{'type':'string'}"));
        ObjectNode merged = merger.merge(GATEWAY, List.of(ServiceDocument.neverFetched("datasets").fetched(internalOnly, T0)));
        JsonNode schemas = merged.at("/components/schemas");
        assertTrue(schemas.has("Page") && schemas.has("Item"), schemas.toString());
        assertFalse(schemas.has("Resolved") || schemas.has("Uses"), schemas.toString());
    }

    @Test
    void theSameComponentFromTwoServicesIsKeptOnceAndADifferentOneIsPrefixed() {
        ObjectNode merged = merger.merge(GATEWAY, List.of(
                ServiceDocument.neverFetched("datasets").fetched(service("/v1/datasets", "Page", "object"), T0),
                ServiceDocument.neverFetched("registry").fetched(service("/v1/models", "Page", "object"), T0),
                ServiceDocument.neverFetched("training").fetched(service("/v1/training/jobs", "Page", "array"), T0)));
        JsonNode schemas = merged.at("/components/schemas");
        assertEquals("object", schemas.path("Page").path("type").asText());
        assertEquals("array", schemas.path("training.Page").path("type").asText());
        assertEquals("#/components/schemas/Page",
                merged.at("/paths/~1v1~1models/get/responses/200/content/application~1json/schema/$ref").asText());
        assertEquals("#/components/schemas/training.Page",
                merged.at("/paths/~1v1~1training~1jobs/get/responses/200/content/application~1json/schema/$ref").asText());
    }

    @Test
    void errorsCarryTheErrorObjectAndTheGatewaysRefusalsAreAddedToEveryOperation() {
        ObjectNode merged = merger.merge(GATEWAY, List.of(
                ServiceDocument.neverFetched("datasets").fetched(service("/v1/datasets", "Page", "object"), T0)));
        JsonNode responses = merged.at("/paths/~1v1~1datasets/get/responses");
        assertEquals("#/components/schemas/Error",
                responses.at("/404/content/application~1json/schema/$ref").asText());
        assertEquals("#/components/headers/X-RateLimit-Remaining", responses.at("/200/headers/X-RateLimit-Remaining/$ref").asText());
        for (String status : List.of("401", "403", "429", "500", "503", "504")) {
            assertTrue(responses.path(status).path("$ref").asText().startsWith("#/components/responses/"), status);
        }
        assertEquals("#/components/headers/Retry-After",
                merged.at("/components/responses/TooManyRequests/headers/Retry-After/$ref").asText());
        assertEquals("x-api-key", merged.at("/components/securitySchemes/ApiKey/name").asText());
        assertEquals("bearer", merged.at("/components/securitySchemes/Bearer/scheme").asText());
        assertTrue(merged.path("security").toString().contains("ApiKey"));
    }

    @Test
    void aServiceThatStoppedAnsweringKeepsItsPathsMarkedStale() {
        ServiceDocument stale = ServiceDocument.neverFetched("datasets").fetched(service("/v1/datasets", "Page", "object"), T0)
                .failed("Connection refused: /127.0.0.1:26485", T0.plusSeconds(60));
        ObjectNode merged = merger.merge(GATEWAY, List.of(stale));
        assertTrue(merged.at("/paths/~1v1~1datasets/get").isObject());
        JsonNode marked = merged.at("/info/" + OpenApiMerger.STALE + "/0");
        assertEquals("datasets", marked.path("service").asText());
        assertEquals(T0.plusSeconds(60).toString(), marked.path("since").asText());
        assertEquals(T0.toString(), marked.path("fetched_at").asText());
        assertTrue(tag(merged, "datasets").path("description").asText().contains("Stale"));
        // the document is public: why, not where the service runs
        assertEquals("Connection refused: [address]", marked.path("reason").asText());
        assertFalse(merged.toString().contains("26485"));
    }

    @Test
    void aServiceNeverFetchedIsListedUnavailableWithoutFailingTheDocument() {
        ObjectNode merged = merger.merge(GATEWAY, List.of(
                ServiceDocument.neverFetched("training").failed("Connection refused: localhost/127.0.0.1:26485", T0),
                ServiceDocument.neverFetched("datasets").fetched(service("/v1/datasets", "Page", "object"), T0)));
        assertTrue(merged.at("/paths/~1v1~1datasets/get").isObject());
        assertEquals("training", merged.at("/info/" + OpenApiMerger.UNAVAILABLE + "/0/service").asText());
        assertTrue(tag(merged, "training").has(OpenApiMerger.UNAVAILABLE));
        assertFalse(merged.path("info").has(OpenApiMerger.STALE));
        assertEquals("Connection refused: [address]", merged.at("/info/" + OpenApiMerger.UNAVAILABLE + "/0/reason").asText());
        assertFalse(merged.toString().contains("26485"));
    }

    private static JsonNode tag(JsonNode merged, String name) {
        for (JsonNode tag : merged.path("tags")) {
            if (tag.path("name").asText().equals(name)) {
                return tag;
            }
        }
        throw new AssertionError("no tag " + name + " in " + merged.path("tags"));
    }
}
