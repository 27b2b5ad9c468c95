package dev.mlinfra.inference.rest;

import static dev.mlinfra.inference.rest.ServingFixtures.as;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.storage.ObjectStore;
import dev.mlinfra.engine.data.PromptTemplate;
import dev.mlinfra.inference.service.DeploymentService;
import dev.mlinfra.testsupport.DevstackResource;
import dev.mlinfra.testsupport.LogCapture;
import dev.mlinfra.testsupport.Management;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * inference-service on the real devstack with the local backend: adapters written to the object
 * store as the trainer writes them, registry events on Kafka, a real model-server process started,
 * supervised and restarted by the service, and generations compared with model-server's own.
 */
@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "inference"),
        restrictToAnnotatedClass = true)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InferenceApiTest {

    static final String TEAM = "team-inf";
    static final String OTHER = "team-other";
    static final Map<String, String> INPUT = Map.of("repository", "argoproj/argo-cd", "issue_title",
            "Sync fails with ComparisonError", "issue_description", "After upgrading, every app shows ComparisonError {x}.");

    static String model;
    static String artifact;

    @Inject
    ObjectStore store;

    @Inject
    ObjectMapper json;

    ServingFixtures fixtures;

    @BeforeEach
    void readyModel() throws Exception {
        fixtures = new ServingFixtures(store, json);
        if (model == null) {
            String id = ServingFixtures.newModelId();
            artifact = fixtures.adapter(TEAM, "train-" + id, 11, true);
            fixtures.registered(TEAM, id, "v1.0.0", "staging", artifact);
            ServingFixtures.awaitState(TEAM, id, "ready");
            model = id;
        }
    }

    private static Map<String, Object> request(String modelId, Map<String, Object> parameters) {
        return Map.of("model_id", modelId, "input", INPUT, "parameters", parameters);
    }

    private static final Map<String, Object> GREEDY = Map.of("temperature", 0, "max_tokens", 24);

    @Test
    @Order(1)
    void answersWithTheGenerationOfTheModelServerForTheRenderedPrompt() throws Exception {
        Response r = as(TEAM).contentType(ContentType.JSON).body(request(model, GREEDY)).post("/v1/inference");
        r.then().statusCode(200).body("model_id", equalTo(model)).body("metadata.model_version", equalTo("v1.0.0"))
                .body("metadata.tokens_generated", greaterThan(0)).body("metadata.generation_time", notNullValue());
        String output = r.jsonPath().getString("output");
        assertFalse(output.isEmpty());

        // The same prompt sent to the model server directly, under the adapter's name: the same text.
        String server = as(TEAM).get("/internal/v1/inference/servers").jsonPath().getString("servers[0].url");
        assertEquals(completion(server, ServingFixtures.servedName(TEAM, model)), output);

        // The adapter matters: the base model answers otherwise.
        String base = given().baseUri(server).contentType(ContentType.JSON)
                .body(Map.of("model", "llama4-scout-mini", "prompt",
                        PromptTemplate.promptText(INPUT.get("repository"), INPUT.get("issue_title"), INPUT.get("issue_description")),
                        "max_tokens", 24, "temperature", 0))
                .post("/v1/completions").then().statusCode(200).extract().jsonPath().getString("choices[0].text");
        assertTrue(!base.equals(output), "the adapter changes what the model generates");

        // Seeded sampling repeats.
        Map<String, Object> seeded = Map.of("temperature", 1.0, "top_p", 0.9, "top_k", 50, "max_tokens", 16, "seed", 42);
        String a = as(TEAM).contentType(ContentType.JSON).body(request(model, seeded)).post("/v1/inference").then()
                .statusCode(200).extract().jsonPath().getString("output");
        String b = as(TEAM).contentType(ContentType.JSON).body(request(model, seeded)).post("/v1/inference").then()
                .statusCode(200).extract().jsonPath().getString("output");
        assertEquals(a, b);
    }

    @Test
    @Order(2)
    void refusesBadRequestsNamingTheField() {
        bad(Map.of("model_id", model, "input", Map.of("repository", "r", "issue_title", "t")), "input.issue_description");
        bad(Map.of("model_id", model, "input", INPUT, "parameters", GREEDY, "extra", 1), "extra");
        bad(Map.of("model_id", model, "input", Map.of("repository", "r", "issue_title", "t", "issue_description", "d",
                "labels", "x")), "input.labels");
        bad(Map.of("input", INPUT), "model_id");
        bad(request(model, Map.of("temperature", 2.5)), "parameters.temperature");
        bad(request(model, Map.of("top_p", 0)), "parameters.top_p");
        bad(request(model, Map.of("top_k", 0)), "parameters.top_k");
        bad(request(model, Map.of("max_tokens", 0)), "parameters.max_tokens");
        bad(request(model, Map.of("max_tokens", 100000)), "parameters.max_tokens");
        bad(request(model, Map.of("max_tokens", "ten")), "parameters.max_tokens");
        // Within the service's bound but beyond this model's own context (1,024 tokens): refused, not cut short. The
        // context is the server's, learned in the background at the first request to it (the tests before this one).
        String beyond = "Field 'parameters.max_tokens' must be between 1 and 1024, the context of model '" + model
                + "' (prompt and answer in tokens), got 1025";
        ServingFixtures.await("the model's context to bound max_tokens", () -> beyond.equals(as(TEAM).contentType(ContentType.JSON)
                .body(request(model, Map.of("max_tokens", 1025))).post("/v1/inference").then().statusCode(400).extract()
                .path("error.message")), () -> as(TEAM).contentType(ContentType.JSON)
                        .body(request(model, Map.of("max_tokens", 1025))).post("/v1/inference").asString());
        as(TEAM).contentType(ContentType.JSON).body("{not json").post("/v1/inference").then().statusCode(400)
                .body("error.code", equalTo("invalid_request"));
        // Where the JSON breaks off, in the words of the other services, without the parser's notes about its source.
        as(TEAM).contentType(ContentType.JSON).body("{").post("/v1/inference").then().statusCode(400)
                .body("error.message", containsString("line 1, column 1"))
                .body("error.message", not(containsString("Source"))).body("error.message", not(containsString("StreamReadFeature")));
        // A body declared as something else than JSON, and another method than the route's, are refused as such.
        as(TEAM).contentType("text/plain").body("{\"model_id\":\"" + model + "\"}").post("/v1/inference").then().statusCode(415)
                .body("error.code", equalTo("unsupported_media_type"))
                .body("error.message", startsWith("Content type 'text/plain")).body("error.message", endsWith("send application/json"));
        as(TEAM).contentType("text/plain").body("{\"model\":\"" + model + "\",\"prompt\":\"x\"}").post("/v1/openai/completions")
                .then().statusCode(415).body("error.type", equalTo("invalid_request_error"))
                .body("error.code", equalTo("unsupported_media_type"));
        // A body over the routes' limit, in each route's own error shape.
        String huge = "{\"model\": \"" + model + "\", \"prompt\": \"" + "a ".repeat(600_000) + "\"}";
        as(TEAM).contentType(ContentType.JSON).body(huge).post("/v1/openai/completions").then().statusCode(413)
                .body("error.type", equalTo("invalid_request_error")).body("error.code", equalTo("payload_too_large"))
                .body("error.message", startsWith("Request body is larger than the 1 MiB this endpoint accepts"));
        as(TEAM).contentType(ContentType.JSON).body(huge).post("/v1/inference").then().statusCode(413)
                .body("error.code", equalTo("payload_too_large")).body("error.status", equalTo(413))
                .body("error.message", startsWith("Request body is larger than the 1 MiB this endpoint accepts"));
        as(TEAM).get("/v1/inference").then().statusCode(405).header("Allow", "OPTIONS, POST")
                .body("error.code", equalTo("method_not_allowed")).body("error.status", equalTo(405))
                .body("error.message", equalTo("Method GET is not allowed on /v1/inference; it takes OPTIONS, POST"));
        as(TEAM).delete("/v1/openai/chat/completions").then().statusCode(405).header("Allow", "OPTIONS, POST")
                .body("error.type", equalTo("invalid_request_error")).body("error.code", equalTo("method_not_allowed"));
        as(TEAM).post("/v1/openai/models").then().statusCode(405).header("Allow", "GET, HEAD, OPTIONS");
        as(TEAM).options("/v1/inference").then().statusCode(200).header("Allow", "OPTIONS, POST");
        // An Accept that takes neither JSON nor server-sent events: 406, as on every endpoint.
        as(TEAM).accept("text/html").contentType(ContentType.JSON).body(Map.of("model_id", model, "input", Map.of(
                "repository", "a/b", "issue_title", "t", "issue_description", "d"))).post("/v1/inference").then()
                .statusCode(406).body("error.code", equalTo("not_acceptable")).body("error.message",
                        equalTo("Cannot produce a response for Accept 'text/html'; accept application/json or text/event-stream"));
        as(TEAM).accept("text/html, application/json;q=0").get("/v1/openai/models").then().statusCode(406)
                .body("error.type", equalTo("invalid_request_error")).body("error.code", equalTo("not_acceptable"));
        as(TEAM).accept("text/html, */*;q=0.1").get("/v1/openai/models").then().statusCode(200);
        // A query parameter is refused, as on every endpoint, in the route's shape: these routes take none.
        as(TEAM).get("/v1/openai/models?limit=1").then().statusCode(400).body("error.type", equalTo("invalid_request_error"))
                .body("error.message", equalTo("Unknown query parameter 'limit'; this endpoint takes none"));
        as(TEAM).contentType(ContentType.JSON).body(Map.of("model_id", model, "input", Map.of("repository", "a/b",
                "issue_title", "t", "issue_description", "d"))).post("/v1/inference?stream=true&foo=1").then().statusCode(400)
                .body("error.code", equalTo("invalid_request"))
                .body("error.message", equalTo("Unknown query parameters 'foo', 'stream'; this endpoint takes none"));
    }

    private static void bad(Map<String, Object> body, String field) {
        as(TEAM).contentType(ContentType.JSON).body(body).post("/v1/inference").then().statusCode(400)
                .body("error.code", equalTo("invalid_request")).body("error.status", equalTo(400))
                .body("error.message", containsString("'" + field + "'"));
    }

    @Test
    @Order(3)
    void anUnknownModelOrAnotherTeamsIsNotFound() {
        as(TEAM).contentType(ContentType.JSON).body(request("no-such-model", GREEDY)).post("/v1/inference").then()
                .statusCode(404).body("error.code", equalTo("not_found")).body("error.message", containsString("no-such-model"));
        as(OTHER).contentType(ContentType.JSON).body(request(model, GREEDY)).post("/v1/inference").then().statusCode(404);
        as(OTHER).get("/v1/deployments/" + model).then().statusCode(404);
        as(OTHER).get("/v1/deployments").then().statusCode(200).body("total", equalTo(0));
        as(OTHER).get("/v1/openai/models").then().statusCode(200).body("data.id", not(hasItem(model)));
    }

    @Test
    @Order(4)
    void streamsTheSameTextAsDeltasThenTheMetadata() {
        String whole = as(TEAM).contentType(ContentType.JSON).body(request(model, GREEDY)).post("/v1/inference").then()
                .statusCode(200).extract().jsonPath().getString("output");
        Response r = as(TEAM).contentType(ContentType.JSON)
                .body(Map.of("model_id", model, "input", INPUT, "parameters", GREEDY, "stream", true)).post("/v1/inference");
        r.then().statusCode(200).contentType(containsString("text/event-stream"));
        List<String[]> events = events(r.asString());
        StringBuilder text = new StringBuilder();
        for (String[] e : events.subList(0, events.size() - 1)) {
            assertEquals("delta", e[0]);
            text.append(jsonOf(e[1]).path("text").asText());
        }
        assertEquals(whole, text.toString());
        String[] last = events.get(events.size() - 1);
        assertEquals("done", last[0]);
        JsonNode done = jsonOf(last[1]);
        assertEquals(model, done.path("model_id").asText());
        assertEquals("v1.0.0", done.path("metadata").path("model_version").asText());
        assertTrue(done.path("metadata").path("tokens_generated").asInt() > 0);

        // An error before the first token is a plain error response.
        as(TEAM).contentType(ContentType.JSON).body(Map.of("model_id", "nope", "input", INPUT, "stream", true))
                .post("/v1/inference").then().statusCode(404).body("error.code", equalTo("not_found"));
    }

    @Test
    @Order(5)
    void theOpenAiRouteServesTheTeamsModelsInOpenAisShapes() {
        as(TEAM).get("/v1/openai/models").then().statusCode(200).body("object", equalTo("list"))
                .body("data.id", hasItem(model));
        // One model, as the SDKs' models.retrieve asks for it; another team's is not found.
        as(TEAM).get("/v1/openai/models/" + model).then().statusCode(200).body("id", equalTo(model))
                .body("object", equalTo("model")).body("owned_by", equalTo(TEAM)).body("version", equalTo("v1.0.0"));
        // created: when the model was first deployed (its deployment's created_at), which a redeploy does not move
        long created = java.time.Instant.parse(as(TEAM).get("/v1/deployments/" + model).then().statusCode(200)
                .extract().path("created_at")).getEpochSecond();
        as(TEAM).get("/v1/openai/models/" + model).then().body("created", equalTo((int) created));
        as(OTHER).get("/v1/openai/models/" + model).then().statusCode(404).body("error.code", equalTo("model_not_found"))
                .body("error.type", equalTo("invalid_request_error"));
        // HEAD answers as GET does, without the body.
        as(TEAM).head("/v1/openai/models").then().statusCode(200).header("content-type", "application/json")
                .body(equalTo(""));
        as(OTHER).head("/v1/openai/models/" + model).then().statusCode(404);
        // A model named by another type than a string is said so, not called missing.
        as(TEAM).contentType(ContentType.JSON).body(Map.of("model", 5, "prompt", "x")).post("/v1/openai/completions").then()
                .statusCode(400).body("error.param", equalTo("model"))
                .body("error.message", startsWith("Field 'model' must be a string, the id of one of your team's models"))
                .body("error.message", endsWith("got 5"));
        // A path the OpenAI-compatible API does not have answers in OpenAI's shape too.
        as(TEAM).contentType(ContentType.JSON).body(Map.of("model", model, "input", "x")).post("/v1/openai/embeddings").then()
                .statusCode(404).body("error.type", equalTo("invalid_request_error")).body("error.code", equalTo("unknown_url"))
                .body("error.message", containsString("No endpoint POST /v1/openai/embeddings"));
        String prompt = PromptTemplate.promptText(INPUT.get("repository"), INPUT.get("issue_title"), INPUT.get("issue_description"));
        String viaInference = as(TEAM).contentType(ContentType.JSON).body(request(model, GREEDY)).post("/v1/inference")
                .then().statusCode(200).extract().jsonPath().getString("output");
        as(TEAM).contentType(ContentType.JSON)
                .body(Map.of("model", model, "prompt", prompt, "max_tokens", 24, "temperature", 0, "stop", List.of("<|eot|>")))
                .post("/v1/openai/completions").then().statusCode(200).body("model", equalTo(model))
                .body("object", equalTo("text_completion")).body("choices[0].text", equalTo(viaInference))
                .body("usage.completion_tokens", greaterThan(0));
        as(TEAM).contentType(ContentType.JSON)
                .body(Map.of("model", model, "messages", List.of(Map.of("role", "user", "content", "Pods crash on start")),
                        "max_tokens", 8, "temperature", 0))
                .post("/v1/openai/chat/completions").then().statusCode(200).body("model", equalTo(model))
                .body("choices[0].message.role", equalTo("assistant"));
        Response stream = as(TEAM).contentType(ContentType.JSON)
                .body(Map.of("model", model, "prompt", prompt, "max_tokens", 24, "temperature", 0, "stop", List.of("<|eot|>"),
                        "stream", true))
                .post("/v1/openai/completions");
        stream.then().statusCode(200).contentType(containsString("text/event-stream"));
        StringBuilder text = new StringBuilder();
        List<String[]> events = events(stream.asString());
        assertEquals("[DONE]", events.get(events.size() - 1)[1]);
        for (String[] e : events.subList(0, events.size() - 1)) {
            JsonNode chunk = jsonOf(e[1]);
            assertEquals(model, chunk.path("model").asText());
            text.append(chunk.path("choices").path(0).path("text").asText(""));
        }
        assertEquals(viaInference, text.toString());

        as(TEAM).contentType(ContentType.JSON).body(Map.of("model", "no-such-model", "prompt", "x"))
                .post("/v1/openai/completions").then().statusCode(404).body("error.type", equalTo("invalid_request_error"))
                .body("error.code", equalTo("model_not_found")).body("error.message", containsString("no-such-model"));
        as(TEAM).contentType(ContentType.JSON).body(Map.of("prompt", "x")).post("/v1/openai/completions").then()
                .statusCode(400).body("error.param", equalTo("model"));
        as(TEAM).contentType(ContentType.JSON).body(Map.of("model", model, "prompt", "x", "temperature", 7))
                .post("/v1/openai/completions").then().statusCode(400).body("error.message", containsString("temperature"))
                .body("error.param", equalTo("temperature"));
        // The model server's refusal names its parameter, as OpenAI's errors do.
        as(TEAM).contentType(ContentType.JSON).body(Map.of("model", model, "messages", List.of(Map.of("role", "user",
                "content", "x")), "max_tokens", 1025)).post("/v1/openai/chat/completions").then().statusCode(400)
                .body("error.param", equalTo("max_tokens")).body("error.message", containsString("at most 1024"))
                .body("error.type", equalTo("invalid_request_error"));
        as(TEAM).contentType(ContentType.JSON).body(Map.of("model", model, "prompt", "x", "max_tokens", 2, "stream", "yes"))
                .post("/v1/openai/completions").then().statusCode(400).body("error.param", equalTo("stream"))
                .body("error.type", equalTo("invalid_request_error"));
    }

    @Test
    @Order(6)
    void aVersionWhoseArtifactsHaveNoPromptTemplateFailsToDeployAndSaysWhy() throws Exception {
        String id = ServingFixtures.newModelId();
        String bare = fixtures.adapter(TEAM, "train-" + id, 12, false);
        fixtures.registered(TEAM, id, "v1.0.0", "staging", bare);
        ServingFixtures.awaitState(TEAM, id, "failed");
        as(TEAM).get("/v1/deployments/" + id).then().body("reason", containsString("prompt_template.json"));
        as(TEAM).contentType(ContentType.JSON).body(request(id, GREEDY)).post("/v1/inference").then().statusCode(409)
                .body("error.code", equalTo("conflict")).body("error.message", containsString("prompt_template.json"));
        as(TEAM).get("/v1/deployments?state=failed").then().statusCode(200).body("deployments.model_id", hasItem(id));
        as(TEAM).get("/v1/deployments?state=sideways").then().statusCode(400).body("error.message", containsString("state"));
    }

    @Test
    @Order(7)
    void anArchivedOnlyModelCannotServeUntilAVersionIsPromotedAndADeletedOneIsGone() throws Exception {
        String id = ServingFixtures.newModelId();
        String v1 = fixtures.adapter(TEAM, "train-" + id + "-1", 21, true);
        fixtures.registered(TEAM, id, "v1.0.0", "staging", v1);
        ServingFixtures.awaitState(TEAM, id, "ready");
        String archived = ServingFixtures.servedName(TEAM, id);
        String server = as(TEAM).get("/internal/v1/inference/servers").jsonPath().getString("servers[0].url");
        try (LogCapture logs = LogCapture.of(DeploymentService.class)) {
            fixtures.stageChanged(TEAM, id, "v1.0.0", "staging", "archived", v1);
            ServingFixtures.awaitState(TEAM, id, "removed");
            as(TEAM).contentType(ContentType.JSON).body(request(id, GREEDY)).post("/v1/inference").then().statusCode(409)
                    .body("error.message", containsString("archived"));
            ServingFixtures.await("the archived adapter unloaded", () -> !given().baseUri(server).get("/v1/models").jsonPath()
                    .getList("data.id", String.class).contains(archived), () -> given().baseUri(server).get("/v1/models").asString());
            // unloaded on the archive's event, not left behind for the adapter sweep
            List<String> said = logs.messages(Level.INFO);
            assertTrue(said.contains("Unloading " + archived + " from the scout server"), said.toString());
            assertEquals(List.of(), said.stream().filter(m -> m.contains(archived + " from the scout server: no deployment")).toList());
            assertEquals(List.of(), logs.messages(Level.WARNING).stream().filter(m -> m.contains(archived)).toList());
        }

        // A new version in production serves; then the model is deleted.
        String v2 = fixtures.adapter(TEAM, "train-" + id + "-2", 22, true);
        fixtures.registered(TEAM, id, "v1.1.0", "production", v2);
        ServingFixtures.awaitState(TEAM, id, "ready");
        as(TEAM).get("/v1/deployments/" + id).then().body("version", equalTo("v1.1.0")).body("stage", equalTo("production"));
        // In production it is pinned: the server keeps it in memory whatever its LRU says.
        given().baseUri(server).get("/v1/models").then().statusCode(200)
                .body("data.find { it.id == '" + ServingFixtures.servedName(TEAM, id) + "' }.pinned", equalTo(true));
        as(TEAM).contentType(ContentType.JSON).body(request(id, GREEDY)).post("/v1/inference").then().statusCode(200)
                .body("metadata.model_version", equalTo("v1.1.0"));
        fixtures.deleted(TEAM, id, List.of("v1.0.0", "v1.1.0"));
        ServingFixtures.awaitState(TEAM, id, "absent");
        as(TEAM).contentType(ContentType.JSON).body(request(id, GREEDY)).post("/v1/inference").then().statusCode(404);
        // What serving announced, in order, on mlinfra.serving.
        ServingFixtures.await("the serving events of " + id, () -> fixtures.servingEvents(id).size() >= 4,
                () -> fixtures.servingEvents(id));
        assertEquals(List.of("deployment.ready", "deployment.removed", "deployment.ready", "deployment.removed"),
                fixtures.servingEvents(id));
    }

    @Test
    @Order(8)
    void aCrashedModelServerIsRestartedAndTheModelAnswersAgain() throws Exception {
        // A second model, whose adapter the restarted server will refuse: as if fine-tuned from an
        // older base model than the one the server runs now.
        String stale = ServingFixtures.newModelId();
        String staleArtifact = fixtures.adapter(TEAM, "train-" + stale, 31, true);
        fixtures.registered(TEAM, stale, "v1.0.0", "production", staleArtifact);
        ServingFixtures.awaitState(TEAM, stale, "ready");
        fixtures.fineTunedFrom(TEAM, "train-" + stale, "seeded-init-v2");

        long pid = as(TEAM).get("/internal/v1/inference/servers").jsonPath().getLong("servers[0].pid");
        ProcessHandle server = ProcessHandle.of(pid).orElseThrow();
        server.destroyForcibly();
        server.onExit().get();
        // Until the new server is up: 503 with Retry-After, never a 500.
        Response during = as(TEAM).contentType(ContentType.JSON).body(request(model, GREEDY)).post("/v1/inference");
        assertEquals(503, during.statusCode(), during.asString());
        assertTrue(Integer.parseInt(during.header("Retry-After")) > 0);
        ServingFixtures.await("an answer after the restart", () -> as(TEAM).contentType(ContentType.JSON).body(request(model, GREEDY))
                .post("/v1/inference").statusCode() == 200, () -> as(TEAM).get("/internal/v1/inference/servers").asString());
        as(TEAM).get("/internal/v1/inference/servers").then().body("servers[0].restarts", greaterThan(0))
                .body("servers[0].state", equalTo("ready")).body("servers[0].last_exit", containsString("signal 9"));

        // The stale model cannot serve: its deployment failed with the server's reason, and a request gets a
        // 409 that says why (not the server's 400 about a request that was fine).
        ServingFixtures.awaitState(TEAM, stale, "failed");
        as(TEAM).get("/v1/deployments/" + stale).then().body("reason", containsString("refused the adapter"))
                .body("reason", containsString("seeded-init-v2"));
        as(TEAM).contentType(ContentType.JSON).body(request(stale, GREEDY)).post("/v1/inference").then().statusCode(409)
                .body("error.code", equalTo("conflict")).body("error.message", containsString("fine-tune it again"));
    }

    @Test
    @Order(9)
    void requestsTokensAndLatenciesAreInTheMetrics() {
        String page = Management.given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(page.contains("mlinfra_inference_requests_total{backend=\"local\",model_type=\"scout\",outcome=\"ok\"}"), page);
        assertTrue(page.contains("mlinfra_inference_tokens_generated_total{backend=\"local\",model_type=\"scout\"}"));
        assertTrue(page.contains("mlinfra_inference_latency_seconds_bucket"));
        assertTrue(page.contains("mlinfra_inference_time_to_first_token_seconds_bucket"));
    }

    @Test
    @Order(10)
    void aClientThatLeavesStopsTheGenerationOnTheModelServer() throws Exception {
        // A model whose adapter leaves the base as it is: greedy, it does not end its answer early.
        String model = ServingFixtures.newModelId();
        fixtures.registered(TEAM, model, "v1.0.0", "staging", fixtures.adapter(TEAM, "train-" + model, 41, true, 0.0));
        ServingFixtures.awaitState(TEAM, model, "ready");
        Map<String, Object> longRun = Map.of("temperature", 0, "max_tokens", 600);
        // Unwatched, this generation runs to max_tokens.
        long started = System.nanoTime();
        as(TEAM).contentType(ContentType.JSON).body(request(model, longRun)).post("/v1/inference").then().statusCode(200)
                .body("metadata.tokens_generated", equalTo(600)).body("metadata.finish_reason", equalTo("length"));
        long unwatchedMillis = (System.nanoTime() - started) / 1_000_000;
        Path log = Path.of(System.getProperty("mlinfra.root"), "inference-service/target/serving/model-server-scout.log");
        String stopped = "stopped generation on " + ServingFixtures.servedName(TEAM, model) + " after ";

        // A stream: the connection is closed after the first token. The reset that stops the server's stream is
        // no failure to report: nothing is logged as a dropped error.
        List<String> dropped = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler droppedErrors = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                if (r.getLevel().intValue() >= java.util.logging.Level.SEVERE.intValue()) {
                    dropped.add(String.valueOf(r.getMessage()));
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        java.util.logging.Logger mutiny = java.util.logging.Logger.getLogger("io.quarkus.mutiny.runtime.MutinyInfrastructure");
        mutiny.addHandler(droppedErrors);
        long before = linesWith(log, stopped);
        try (Socket socket = post(Map.of("model_id", model, "input", INPUT, "parameters", longRun, "stream", true))) {
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null && !line.startsWith("event: delta")) {
                // headers and chunk sizes
            }
            assertTrue(line != null, "a first token came");
        }
        assertStoppedEarly(log, stopped, before);
        Thread.sleep(500);
        mutiny.removeHandler(droppedErrors);
        assertEquals(List.of(), dropped, "errors dropped after the client left");

        // A whole answer: the connection is closed a third of the way into the generation.
        before = linesWith(log, stopped);
        try (Socket socket = post(Map.of("model_id", model, "input", INPUT, "parameters", longRun))) {
            Thread.sleep(unwatchedMillis / 3);
        }
        assertStoppedEarly(log, stopped, before);
    }

    @Test
    @Order(11)
    void anAdapterThatNoDeploymentServesIsUnloadedFromTheServer() throws Exception {
        // As a load that lands after its version was archived leaves it: on the server, served by no deployment.
        String orphan = TEAM + "/" + ServingFixtures.newModelId() + "/v1.0.0";
        String path = fixtures.adapter(TEAM, "train-orphan-" + System.nanoTime(), 51, true);
        String server = as(TEAM).get("/internal/v1/inference/servers").jsonPath().getString("servers[0].url");
        given().baseUri(server).contentType(ContentType.JSON).body(Map.of("lora_name", orphan, "lora_path", path))
                .post("/v1/load_lora_adapter").then().statusCode(200);
        ServingFixtures.await("the adapter no deployment serves unloaded", () -> !given().baseUri(server).get("/v1/models")
                .jsonPath().getList("data.id").contains(orphan), () -> given().baseUri(server).get("/v1/models").asString());
        // The ready model's adapter stays.
        assertTrue(given().baseUri(server).get("/v1/models").jsonPath().getList("data.id").contains(ServingFixtures.servedName(TEAM, model)));
    }

    @Test
    @Order(12)
    void aModelDeletedAndRegisteredAgainServesItsNewWeights() throws Exception {
        String id = ServingFixtures.newModelId();
        String first = fixtures.adapter(TEAM, "train-" + id + "-1", 61, true);
        fixtures.registered(TEAM, id, "v1.0.0", "production", first);
        ServingFixtures.awaitState(TEAM, id, "ready");
        String before = ServingFixtures.servedName(TEAM, id);
        assertTrue(before.matches(TEAM + "/" + id + "/v1\\.0\\.0/[0-9a-f]{8}"), before);
        fixtures.deleted(TEAM, id, List.of("v1.0.0"));
        ServingFixtures.awaitState(TEAM, id, "absent");
        // As a request that read the deployment just before the deletion leaves it: the old adapter loaded again.
        String server = as(TEAM).get("/internal/v1/inference/servers").jsonPath().getString("servers[0].url");
        given().baseUri(server).contentType(ContentType.JSON).body(Map.of("lora_name", before, "lora_path", first))
                .post("/v1/load_lora_adapter").then().statusCode(200);
        String old = completion(server, before);

        // The same version again, trained anew: another adapter name, so neither the old weights nor a refusal.
        String second = fixtures.adapter(TEAM, "train-" + id + "-2", 62, true);
        fixtures.registered(TEAM, id, "v1.0.0", "production", second);
        ServingFixtures.awaitState(TEAM, id, "ready");
        String after = ServingFixtures.servedName(TEAM, id);
        assertNotEquals(before, after);
        String output = as(TEAM).contentType(ContentType.JSON).body(request(id, GREEDY)).post("/v1/inference").then()
                .statusCode(200).extract().jsonPath().getString("output");
        assertEquals(completion(server, after), output);
        // the old weights answer otherwise: the answer above is the new weights'
        assertNotEquals(old, output);
    }

    /** The server's own greedy generation for the test's input under {@code servedName}. */
    private static String completion(String server, String servedName) {
        return given().baseUri(server).contentType(ContentType.JSON)
                .body(Map.of("model", servedName, "prompt",
                        PromptTemplate.promptText(INPUT.get("repository"), INPUT.get("issue_title"), INPUT.get("issue_description")),
                        "max_tokens", 24, "temperature", 0, "stop", List.of("<|eot|>")))
                .post("/v1/completions").then().statusCode(200).extract().jsonPath().getString("choices[0].text");
    }

    /** POST /v1/inference of {@code body} on a connection of its own, left open for the caller to close. */
    private Socket post(Map<String, Object> body) throws Exception {
        byte[] bytes = json.writeValueAsBytes(body);
        Socket socket = new Socket("127.0.0.1", io.restassured.RestAssured.port);
        OutputStream out = socket.getOutputStream();
        out.write(("POST /v1/inference HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "x-mlinfra-identity: " + dev.mlinfra.testsupport.TestIdentities.token(TEAM, "read", "write") + "\r\n"
                + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.flush();
        return socket;
    }

    private static long linesWith(Path log, String text) throws java.io.IOException {
        return Files.readAllLines(log).stream().filter(l -> l.contains(text)).count();
    }

    /** The model server logs one more stopped generation than {@code before}, and it stopped short of its 600 tokens. */
    private static void assertStoppedEarly(Path log, String stopped, long before) throws Exception {
        ServingFixtures.await("the model server to stop the generation", () -> {
            try {
                return linesWith(log, stopped) > before;
            } catch (java.io.IOException e) {
                return false;
            }
        }, () -> "no new '" + stopped + "' line in " + log);
        String last = Files.readAllLines(log).stream().filter(l -> l.contains(stopped)).reduce((a, b) -> b).orElseThrow();
        int tokens = Integer.parseInt(last.substring(last.indexOf(stopped) + stopped.length()).split(" ")[0]);
        assertTrue(tokens < 600, last);
    }

    /** The (event name, data) of each event of a server-sent event stream. */
    static List<String[]> events(String body) {
        List<String[]> out = new ArrayList<>();
        for (String block : body.split("\n\n")) {
            String name = "message";
            StringBuilder data = new StringBuilder();
            for (String line : block.split("\n")) {
                if (line.startsWith("event:")) {
                    name = line.substring(6).strip();
                } else if (line.startsWith("data:")) {
                    data.append(line.substring(line.startsWith("data: ") ? 6 : 5));
                }
            }
            if (!data.isEmpty()) {
                out.add(new String[] {name, data.toString()});
            }
        }
        return out;
    }

    private JsonNode jsonOf(String text) {
        try {
            return json.readTree(text);
        } catch (Exception e) {
            throw new IllegalStateException(text, e);
        }
    }
}
