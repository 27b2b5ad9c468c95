package dev.mlinfra.gateway.http;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.mlinfra.gateway.ApiServices;
import dev.mlinfra.gateway.openapi.ApiDocuments;
import dev.mlinfra.gateway.openapi.OpenApiMerger;
import dev.mlinfra.testsupport.DevstackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The gateway's /q/openapi against the real services: every endpoint of the contract is there
 * with its parameters and errors, and a service that goes down stays documented, marked stale.
 */
@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "gateway"))
@QuarkusTestResource(value = ApiServices.class, restrictToAnnotatedClass = true)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ApiDocumentTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Every request through the gateway may meet these; the contract lists them under Error Handling. */
    private static final List<String> EVERY_ENDPOINT = List.of("400", "401", "403", "429", "500");

    /** One endpoint of ml-infrastructure-api.md under /v1: its path and query parameters, body and errors. */
    record Endpoint(String method, String path, List<String> pathParams, List<String> queryParams, boolean body,
            List<String> errors) {
    }

    private static final List<Endpoint> CONTRACT = List.of(
            new Endpoint("post", "/v1/training/jobs", List.of(), List.of(), true, List.of("400")),
            new Endpoint("get", "/v1/training/jobs/{job_id}", List.of("job_id"), List.of(), false, List.of("404")),
            new Endpoint("get", "/v1/training/jobs", List.of(), List.of("status", "model_type", "limit", "offset"), false,
                    List.of("400")),
            new Endpoint("post", "/v1/training/jobs/{job_id}/cancel", List.of("job_id"), List.of(), false, List.of("404")),
            new Endpoint("post", "/v1/inference", List.of(), List.of(), true, List.of("400", "404")),
            new Endpoint("get", "/v1/models/{model_id}", List.of("model_id"), List.of(), false, List.of("404")),
            new Endpoint("get", "/v1/models", List.of(), List.of("model_type", "status", "limit", "offset"), false,
                    List.of("400")),
            new Endpoint("post", "/v1/models/register", List.of(), List.of(), true, List.of("400")),
            new Endpoint("post", "/v1/models/{model_id}/stage", List.of("model_id"), List.of(), true, List.of("400", "404")),
            new Endpoint("delete", "/v1/models/{model_id}", List.of("model_id"), List.of(), false, List.of("404")),
            new Endpoint("post", "/v1/datasets/upload", List.of(), List.of(), true, List.of("400")),
            new Endpoint("get", "/v1/datasets/{dataset_id}", List.of("dataset_id"), List.of(), false, List.of("404")),
            new Endpoint("get", "/v1/datasets", List.of(), List.of("source", "status", "limit", "offset"), false,
                    List.of("400")),
            new Endpoint("delete", "/v1/datasets/{dataset_id}", List.of("dataset_id"), List.of(), false, List.of("404")),
            new Endpoint("get", "/v1/infrastructure/status", List.of(), List.of(), false, List.of()),
            new Endpoint("get", "/v1/infrastructure/metrics", List.of(), List.of("component", "metric", "period"), false,
                    List.of("400")));

    @Inject
    ApiDocuments documents;

    private JsonNode fetchedDocument() throws Exception {
        documents.refresh().toCompletableFuture().get(30, TimeUnit.SECONDS);
        byte[] body = given().queryParam("format", "json").get("/q/openapi").then().statusCode(200)
                .contentType(containsString("application/json")).extract().asByteArray();
        // kept for reading when a test fails
        java.nio.file.Files.write(java.nio.file.Path.of("target/merged-openapi.json"), body);
        return JSON.readTree(body);
    }

    @Test
    @Order(1)
    void everyEndpointOfTheContractIsDocumentedWithItsParametersAndErrors() throws Exception {
        JsonNode doc = fetchedDocument();
        List<String> problems = new ArrayList<>();
        for (Endpoint e : CONTRACT) {
            String name = e.method.toUpperCase(Locale.ROOT) + " " + e.path;
            JsonNode item = doc.path("paths").path(e.path);
            JsonNode op = item.path(e.method);
            if (!op.isObject()) {
                problems.add(name + " is missing");
                continue;
            }
            List<JsonNode> params = new ArrayList<>();
            item.path("parameters").forEach(p -> params.add(resolve(doc, p)));
            op.path("parameters").forEach(p -> params.add(resolve(doc, p)));
            for (String p : e.pathParams) {
                if (params.stream().noneMatch(d -> d.path("name").asText().equals(p) && d.path("in").asText().equals("path")
                        && d.path("required").asBoolean())) {
                    problems.add(name + ": required path parameter " + p + " is missing");
                }
            }
            for (String p : e.queryParams) {
                if (params.stream().noneMatch(d -> d.path("name").asText().equals(p) && d.path("in").asText().equals("query"))) {
                    problems.add(name + ": query parameter " + p + " is missing");
                }
            }
            if (e.body && !resolve(doc, op.path("requestBody")).path("content").has("application/json")) {
                problems.add(name + ": JSON request body is missing");
            }
            List<String> errors = new ArrayList<>(EVERY_ENDPOINT);
            errors.addAll(e.errors);
            if (e.body) {
                errors.addAll(List.of("413", "415"));
            }
            for (String status : errors) {
                JsonNode response = resolve(doc, op.path("responses").path(status));
                if (!"#/components/schemas/Error".equals(
                        response.at("/content/application~1json/schema/$ref").asText())) {
                    problems.add(name + ": error " + status + " is missing or lacks the error object: " + response);
                }
            }
            JsonNode tooMany = resolve(doc, op.path("responses").path("429"));
            for (String header : List.of("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Policy",
                    "RateLimit", "Retry-After")) {
                if (!tooMany.path("headers").has(header)) {
                    problems.add(name + ": 429 lacks the " + header + " header");
                }
            }
            List<JsonNode> successes = op.path("responses").properties().stream().filter(r -> r.getKey().startsWith("2"))
                    .map(r -> resolve(doc, r.getValue())).toList();
            if (successes.stream().noneMatch(r -> r.path("content").has("application/json"))) {
                problems.add(name + ": no JSON success response");
            }
            if (successes.stream().noneMatch(r -> r.path("headers").has("X-RateLimit-Remaining")
                    && r.path("headers").has("RateLimit"))) {
                problems.add(name + ": its success response lacks the rate-limit headers");
            }
        }
        assertEquals(List.of(), problems);
    }

    @Test
    @Order(1)
    void schemasNameFieldsAsTheJsonHasThemAndListsAsTheyAreSent() throws Exception {
        JsonNode doc = fetchedDocument();
        JsonNode schemas = doc.path("components").path("schemas");
        // snake_case as every body is read and written (a client generated from the document sends what is accepted)
        List<String> otherCase = new ArrayList<>();
        schemas.fields().forEachRemaining(schema -> schema.getValue().path("properties").fieldNames().forEachRemaining(name -> {
            if (!name.equals(name.toLowerCase(Locale.ROOT))) {
                otherCase.add(schema.getKey() + "." + name);
            }
        }));
        assertEquals(List.of(), otherCase);
        for (String internal : List.of("JsonNode", "OutboundSseEvent", "MediaType", "PageParams")) {
            assertFalse(schemas.has(internal), "a type that never reaches the wire is described: " + internal);
        }
        // a component of the status as it is sent, not the class that holds it
        List<String> component = new ArrayList<>();
        schemas.path("ComponentStatus").path("properties").fieldNames().forEachRemaining(component::add);
        assertEquals(List.of("status", "version", "reason", "latency_ms", "endpoint"), component, schemas.path("ComponentStatus").toString());
        // Every list: its items under the resource's name, then total, limit and offset.
        String[][] lists = {{"/v1/models", "models"}, {"/v1/models/{model_id}/history", "history"},
            {"/v1/training/jobs", "jobs"}, {"/v1/training/jobs/{job_id}/events", "events"}, {"/v1/datasets", "datasets"},
            {"/v1/deployments", "deployments"}, {"/v1/admin/api-keys", "api_keys"}};
        for (String[] list : lists) {
            JsonNode get = doc.path("paths").path(list[0]).path("get");
            assertFalse(get.has(dev.mlinfra.commons.api.Page.ITEMS), list[0] + " keeps the extension: " + get);
            String ref = get.path("responses").path("200").path("content").path("application/json").path("schema")
                    .path("$ref").asText();
            JsonNode page = schemas.path(ref.substring(ref.lastIndexOf('/') + 1));
            List<String> names = new ArrayList<>();
            page.path("properties").fieldNames().forEachRemaining(names::add);
            assertEquals(List.of(list[1], "total", "limit", "offset"), names, list[0] + ": " + page);
            assertEquals("array", page.path("properties").path(list[1]).path("type").asText(), list[0] + ": " + page);
        }
    }

    @Test
    @Order(1)
    void theOpenAiCompatibleApiIsDocumentedWithOpenAisErrorShape() throws Exception {
        JsonNode doc = fetchedDocument();
        List<String> problems = new ArrayList<>();
        for (String[] e : new String[][] {{"get", "/v1/openai/models"}, {"get", "/v1/openai/models/{model}"},
                {"post", "/v1/openai/completions"}, {"post", "/v1/openai/chat/completions"}}) {
            JsonNode op = doc.path("paths").path(e[1]).path(e[0]);
            if (!op.isObject()) {
                problems.add(e[0] + " " + e[1] + " is missing");
                continue;
            }
            // its errors, the gateway's refusals among them, are OpenAI's object, which its SDKs read
            for (String status : List.of("401", "403", "429", "500")) {
                JsonNode response = resolve(doc, op.path("responses").path(status));
                if (!"#/components/schemas/OpenAiError".equals(response.at("/content/application~1json/schema/$ref").asText())) {
                    problems.add(e[0] + " " + e[1] + ": error " + status + " is not in OpenAI's shape: " + response);
                }
            }
        }
        JsonNode notFound = resolve(doc, doc.at("/paths/~1v1~1openai~1completions/post/responses/404"));
        if (!"#/components/schemas/OpenAiError".equals(notFound.at("/content/application~1json/schema/$ref").asText())) {
            problems.add("the service's own 404 is not in OpenAI's shape: " + notFound);
        }
        assertEquals(List.of(), problems);
    }

    @Test
    @Order(2)
    void theDocumentHasOnlyThePublicApiWithTheApiKeySchemesAppliedToAll() throws Exception {
        JsonNode doc = fetchedDocument();
        doc.path("paths").properties().forEach(p -> assertTrue(p.getKey().startsWith("/v1/"), p.getKey()));
        assertTrue(doc.path("paths").has("/v1/admin/api-keys"), "the gateway's own endpoints");
        assertEquals("apiKey", doc.at("/components/securitySchemes/ApiKey/type").asText());
        assertEquals("header", doc.at("/components/securitySchemes/ApiKey/in").asText());
        assertEquals("x-api-key", doc.at("/components/securitySchemes/ApiKey/name").asText());
        assertEquals("http", doc.at("/components/securitySchemes/Bearer/type").asText());
        assertEquals("bearer", doc.at("/components/securitySchemes/Bearer/scheme").asText());
        assertEquals(Set.of("ApiKey", "Bearer"), Set.of(doc.at("/security/0").fieldNames().next(),
                doc.at("/security/1").fieldNames().next()));
        for (JsonNode service : doc.at("/info/" + OpenApiMerger.SERVICES)) {
            assertEquals("available", service.path("status").asText(), service.toString());
        }
        assertEquals(ApiServices.names().size() + 1, doc.at("/info/" + OpenApiMerger.SERVICES).size());
    }

    @Test
    @Order(3)
    void theDocumentIsServedInYamlByDefaultAsQuarkusDoes() throws Exception {
        String yaml = given().get("/q/openapi").then().statusCode(200).contentType(containsString("yaml"))
                .extract().asString();
        JsonNode doc = new YAMLMapper().readTree(yaml);
        assertTrue(doc.path("paths").has("/v1/training/jobs"));
        given().accept("application/json").get("/q/openapi").then().statusCode(200)
                .contentType(containsString("application/json"));
        given().get("/q/openapi.json").then().statusCode(200).contentType(containsString("application/json"));
    }

    @Test
    @Order(4)
    void swaggerUiShowsTheWholeApi() {
        String page = given().get("/q/swagger-ui/").then().statusCode(200).extract().asString();
        assertTrue(page.contains("url: '/q/openapi'"), "Swagger UI reads the merged document: " + page);
    }

    @Test
    @Order(5)
    void aServiceThatGoesDownStaysDocumentedMarkedStale() throws Exception {
        fetchedDocument();
        ApiServices.stop("infrastructure");
        JsonNode doc = fetchedDocument();
        assertTrue(doc.at("/paths/~1v1~1infrastructure~1status/get").isObject(), "its last good copy is kept");
        JsonNode stale = doc.at("/info/" + OpenApiMerger.STALE);
        assertEquals(1, stale.size(), stale.toString());
        assertEquals("infrastructure", stale.at("/0/service").asText());
        assertFalse(stale.at("/0/since").asText().isEmpty());
        boolean tagged = false;
        for (JsonNode tag : doc.path("tags")) {
            if (tag.path("name").asText().equals("infrastructure")) {
                tagged = tag.has(OpenApiMerger.STALE) && tag.path("description").asText().contains("Stale");
            }
        }
        assertTrue(tagged, doc.path("tags").toString());
        assertTrue(doc.at("/paths/~1v1~1datasets/get").isObject(), "the other services are unaffected");
    }

    /** The object a {@code $ref} points to within the document, or the node itself. */
    private static JsonNode resolve(JsonNode doc, JsonNode node) {
        String ref = node.path("$ref").asText();
        return ref.startsWith("#/") ? resolve(doc, doc.at(ref.substring(1))) : node;
    }
}
