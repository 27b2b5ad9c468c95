package dev.mlinfra.gateway.http;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.gateway.GatewayTestKeys;
import dev.mlinfra.gateway.InferenceStub;
import dev.mlinfra.testsupport.DevstackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * The OpenAI-compatible API through the gateway as the OpenAI SDKs use it: the key as a Bearer
 * token, OpenAI's error object from the gateway, the inference area's limit, streamed answers.
 * inference-service is stood in for by {@link InferenceStub}.
 */
@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "gateway"))
@QuarkusTestResource(value = InferenceStub.class, restrictToAnnotatedClass = true)
class OpenAiThroughGatewayTest {

    @TestHTTPResource("/")
    URI gateway;

    private static void assertOpenAiError(Response response, int status, String type, String code) {
        response.then().statusCode(status)
                .contentType(ContentType.JSON)
                .body("error.message", notNullValue())
                .body("error.type", equalTo(type))
                .body("error.code", equalTo(code))
                .body("error", hasKey("param"))
                .body("error.param", nullValue())
                .body("error", not(hasKey("status")));
    }

    private static void assertContractError(Response response, int status, String code) {
        response.then().statusCode(status)
                .contentType(ContentType.JSON)
                .body("error.code", equalTo(code))
                .body("error.status", equalTo(status))
                .body("error.message", notNullValue())
                .body("error", not(hasKey("type")));
    }

    private static String bearer(String key) {
        return "Bearer " + key;
    }

    @Test
    void theKeyIsAcceptedAsABearerTokenAndStillAsXApiKey() {
        var key = GatewayTestKeys.create("openai-a", "read", "write");
        given().header("Authorization", bearer(key.secret())).get("/v1/openai/models")
                .then().statusCode(200).body("object", equalTo("list")).body("data[0].id", equalTo("team-model"));
        given().header("x-api-key", key.secret()).get("/v1/openai/models")
                .then().statusCode(200).body("data[0].id", equalTo("team-model"));
        // lower-case scheme, as some HTTP clients write it
        given().header("Authorization", "bearer " + key.secret()).get("/v1/openai/models").then().statusCode(200);
        // both headers with the same key are one key
        given().header("x-api-key", key.secret()).header("Authorization", bearer(key.secret()))
                .get("/v1/openai/models").then().statusCode(200);
    }

    @Test
    void aBearerKeyWorksOnTheContractsRoutesToo() {
        var key = GatewayTestKeys.create("openai-b", "read", "write");
        given().header("Authorization", bearer(key.secret())).contentType(ContentType.JSON).body("{}")
                .post("/v1/inference").then().statusCode(200).body("path", equalTo("/v1/inference"));
    }

    @Test
    void twoDifferentKeysAreRefusedWith401() {
        var first = GatewayTestKeys.create("openai-c", "read");
        var second = GatewayTestKeys.create("openai-c", "read");
        Response onOpenAi = given().header("x-api-key", first.secret()).header("Authorization", bearer(second.secret()))
                .get("/v1/openai/models");
        assertOpenAiError(onOpenAi, 401, "invalid_request_error", "invalid_api_key");
        onOpenAi.then().body("error.message", containsString("different keys"));
        Response elsewhere = given().header("x-api-key", first.secret()).header("Authorization", bearer(second.secret()))
                .get("/v1/datasets");
        assertContractError(elsewhere, 401, "unauthorized");
        elsewhere.then().body("error.message", containsString("different keys"));
    }

    @Test
    void anInvalidBearerKeyIsRefusedInOpenAisShapeOnTheOpenAiRouteAndInTheContractsElsewhere() {
        Response invalid = given().header("Authorization", bearer("sk-not-one-of-ours")).get("/v1/openai/models");
        assertOpenAiError(invalid, 401, "invalid_request_error", "invalid_api_key");
        invalid.then().body("error.message", equalTo("Invalid or revoked API key"));
        // a JWT is not an API key either
        assertOpenAiError(given().header("Authorization", bearer("eyJhbGciOiJSUzI1NiJ9.e30.c2ln"))
                .post("/v1/openai/chat/completions"), 401, "invalid_request_error", "invalid_api_key");
        assertOpenAiError(given().get("/v1/openai/models"), 401, "invalid_request_error", "invalid_api_key");

        Response contract = given().header("Authorization", bearer("sk-not-one-of-ours")).get("/v1/deployments");
        assertContractError(contract, 401, "unauthorized");
        contract.then().body("error.message", equalTo("Invalid or revoked API key"));
        assertContractError(given().header("Authorization", bearer("sk-not-one-of-ours")).contentType(ContentType.JSON)
                .body("{}").post("/v1/inference"), 401, "unauthorized");
        assertContractError(given().get("/v1/inference"), 401, "unauthorized");
    }

    @Test
    void aKeyWithoutTheScopeIsRefusedInOpenAisShape() {
        var reader = GatewayTestKeys.create("openai-d", "read");
        Response refused = given().header("Authorization", bearer(reader.secret())).contentType(ContentType.JSON)
                .body("{\"model\":\"team-model\",\"messages\":[]}").post("/v1/openai/chat/completions");
        assertOpenAiError(refused, 403, "invalid_request_error", "forbidden");
        refused.then().body("error.message", containsString("'write' scope"));
    }

    @Test
    void theClientsCredentialsNeverReachTheServiceButItsIdentityDoes() {
        var key = GatewayTestKeys.create("openai-e", "read", "write");
        for (var request : List.of(given().header("Authorization", bearer(key.secret())),
                given().header("x-api-key", key.secret()).header("Authorization", bearer(key.secret())))) {
            request.contentType(ContentType.JSON).body("{\"model\":\"team-model\",\"prompt\":\"hi\"}")
                    .post("/v1/openai/completions")
                    .then().statusCode(200)
                    .body("path", equalTo("/v1/openai/completions"))
                    .body("headers", not(hasKey("authorization")))
                    .body("headers", not(hasKey("x-api-key")))
                    .body("headers.x-mlinfra-identity", notNullValue())
                    .body("headers.x-request-id", notNullValue());
        }
    }

    @Test
    void theOpenAiAndDeploymentRoutesCountAgainstTheInferenceLimit() {
        int limit = InferenceStub.INFERENCE_LIMIT;
        var key = GatewayTestKeys.create("openai-f", "read", "write");
        List<Response> allowed = new ArrayList<>();
        allowed.add(given().header("Authorization", bearer(key.secret())).get("/v1/openai/models"));
        allowed.add(given().header("x-api-key", key.secret()).get("/v1/deployments"));
        allowed.add(given().header("x-api-key", key.secret()).contentType(ContentType.JSON).body("{}").post("/v1/inference"));
        while (allowed.size() < limit) {
            allowed.add(given().header("Authorization", bearer(key.secret())).get("/v1/openai/models"));
        }
        for (int i = 0; i < limit; i++) {
            allowed.get(i).then().statusCode(200)
                    .header("X-RateLimit-Limit", String.valueOf(limit))
                    .header("X-RateLimit-Remaining", String.valueOf(limit - 1 - i));
        }
        Response refused = given().header("Authorization", bearer(key.secret())).contentType(ContentType.JSON)
                .body("{\"model\":\"team-model\",\"messages\":[]}").post("/v1/openai/chat/completions");
        assertOpenAiError(refused, 429, "requests", "rate_limit_exceeded");
        refused.then().header("X-RateLimit-Limit", String.valueOf(limit)).header("X-RateLimit-Remaining", "0")
                .header("X-RateLimit-Reset", notNullValue())
                .body("error.message", containsString("inference"));
        long retryAfter = Long.parseLong(refused.header("Retry-After"));
        assertTrue(retryAfter >= 1 && retryAfter <= 60, "Retry-After " + retryAfter);
        // The same budget is spent on the contract's inference routes, which keep the contract's error object.
        Response contract = given().header("x-api-key", key.secret()).get("/v1/deployments");
        assertContractError(contract, 429, "rate_limit_exceeded");
        contract.then().header("Retry-After", notNullValue());
        // Other areas have their own budgets.
        given().header("x-api-key", key.secret()).get("/v1/datasets").then().statusCode(200)
                .header("X-RateLimit-Limit", "60");
    }

    @Test
    void upstreamFailuresOnTheOpenAiRouteAreServerErrorsInOpenAisShape() {
        var key = GatewayTestKeys.create("openai-g", "read", "write");
        Response timedOut = given().header("Authorization", bearer(key.secret())).get("/v1/openai/slow");
        assertOpenAiError(timedOut, 504, "server_error", "gateway_timeout");
        Response dropped = given().header("Authorization", bearer(key.secret())).get("/v1/openai/broken");
        assertOpenAiError(dropped, 502, "server_error", "bad_gateway");
        // The same failures elsewhere keep the contract's shape.
        assertContractError(given().header("Authorization", bearer(key.secret())).get("/v1/deployments/slow"), 504,
                "gateway_timeout");
    }

    @Test
    void aGenerationAnsweredWholeMayTakeLongerThanOtherRequests() {
        var key = GatewayTestKeys.create("openai-l", "read", "write");
        // 3 s of silence: past the response timeout of other requests (2 s here), within that of generations.
        long started = System.nanoTime();
        given().header("Authorization", bearer(key.secret())).contentType(ContentType.JSON)
                .body("{\"model\": \"team-model\", \"delay_seconds\": 3}").post("/v1/openai/chat/completions")
                .then().statusCode(200).body("path", equalTo("/v1/openai/chat/completions"));
        assertTrue(System.nanoTime() - started >= 3_000_000_000L, "the service took its 3 s");
        given().header("x-api-key", key.secret()).contentType(ContentType.JSON).body("{\"delay_seconds\": 3}")
                .post("/v1/inference").then().statusCode(200).body("path", equalTo("/v1/inference"));
        // Any other request of the area still gets its 504 after 2 s.
        assertContractError(given().header("x-api-key", key.secret()).contentType(ContentType.JSON)
                .body("{\"delay_seconds\": 3}").post("/v1/deployments"), 504, "gateway_timeout");
    }

    @Test
    void aStreamedCompletionArrivesChunkByChunk() throws Exception {
        var key = GatewayTestKeys.create("openai-h", "read", "write");
        String streamId = UUID.randomUUID().toString();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<InputStream> response = client.send(HttpRequest.newBuilder(gateway.resolve("/v1/openai/chat/completions"))
                .header("Authorization", bearer(key.secret())).header("Content-Type", "application/json")
                .header("Accept", "text/event-stream").header("X-Stream-Id", streamId)
                .timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"team-model\",\"stream\":true,"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                .build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"),
                response.headers().toString());
        assertFalse(response.headers().firstValue("content-length").isPresent(), "a stream has no length");
        List<String> events = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (!line.startsWith("data: ")) {
                    continue;
                }
                events.add(line.substring("data: ".length()));
                if (events.size() == 1) {
                    // The upstream holds the rest of the stream until this first chunk has reached us.
                    HttpResponse<String> released = client.send(HttpRequest.newBuilder(
                            URI.create(stubUrl() + "/release?id=" + streamId)).build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, released.statusCode());
                }
            }
        }
        assertEquals(3, events.size(), events.toString());
        assertTrue(events.get(0).contains("\"Hello\""), events.toString());
        assertTrue(events.get(1).contains("\" world\""), "the second chunk followed the release: " + events);
        assertEquals("[DONE]", events.get(2));
    }

    private static String stubUrl() {
        return ConfigProvider.getConfig().getValue("mlinfra.gateway.services.inference.url", String.class);
    }
}
