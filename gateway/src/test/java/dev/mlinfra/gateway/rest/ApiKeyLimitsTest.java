package dev.mlinfra.gateway.rest;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.anEmptyMap;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.gateway.GatewayTestBackends;
import dev.mlinfra.gateway.GatewayTestKeys;
import dev.mlinfra.testsupport.DevstackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Per-key rate limits set through {@code PATCH /v1/admin/api-keys/{id}}, and the rate-limit
 * headers that tell a client where it stands (training: 10 per minute, configured).
 */
@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "gateway"))
@QuarkusTestResource(value = GatewayTestBackends.class, restrictToAnnotatedClass = true)
class ApiKeyLimitsTest {

    private static final Pattern RATE_LIMIT = Pattern.compile("\"training\";r=(\\d+);t=(\\d+)");

    private static RequestSpecification admin() {
        return given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).contentType(ContentType.JSON);
    }

    private static Response patch(String keyId, String body) {
        return admin().body(body).patch("/v1/admin/api-keys/" + keyId);
    }

    /** A training request: training-service is down in these tests, so every counted one is a 503, and 429 past the limit. */
    private static Response training(GatewayTestKeys.Key key) {
        return given().header("x-api-key", key.secret()).get("/v1/training/jobs");
    }

    private static io.restassured.response.ValidatableResponse assertInvalid(Response response, String field) {
        return response.then().statusCode(400).contentType(ContentType.JSON)
                .body("error.code", equalTo("invalid_request")).body("error.status", equalTo(400))
                .body("error.message", containsString(field));
    }

    @Test
    void aLoweredLimitRefusesTheRequestAfterExactlyThatManyAndTheHeadersSayWhereTheClientStands() {
        var key = GatewayTestKeys.create("team-limits", "read");
        // The key is in use (and remembered by the gateway) before its limit changes.
        training(key).then().statusCode(503).header("X-RateLimit-Limit", "10").header("X-RateLimit-Remaining", "9")
                .header("RateLimit-Policy", "\"training\";q=10;w=60");
        patch(key.id(), "{\"limits\": {\"training\": 3}}").then().statusCode(200)
                .body("key_id", equalTo(key.id()))
                .body("limits.training", equalTo(3)).body("limits.inference", equalTo(100))
                .body("limit_overrides.training", equalTo(3)).body("limit_overrides.size()", equalTo(1));
        int lastRemaining = Integer.MAX_VALUE;
        for (int request = 2; request <= 3; request++) {
            long now = Instant.now().getEpochSecond();
            Response r = training(key);
            r.then().statusCode(503).header("X-RateLimit-Limit", "3").header("RateLimit-Policy", "\"training\";q=3;w=60");
            int remaining = Integer.parseInt(r.header("X-RateLimit-Remaining"));
            assertEquals(3 - request, remaining);
            Matcher m = RATE_LIMIT.matcher(r.header("RateLimit"));
            assertTrue(m.matches(), "RateLimit: " + r.header("RateLimit"));
            assertEquals(remaining, Integer.parseInt(m.group(1)), "r is X-RateLimit-Remaining");
            long reset = Long.parseLong(r.header("X-RateLimit-Reset"));
            long t = Long.parseLong(m.group(2));
            assertTrue(Math.abs(now + t - reset) <= 2, "t=" + t + " counts the seconds to X-RateLimit-Reset " + reset + " (now " + now + ")");
            assertTrue(remaining < lastRemaining, "remaining decreases");
            lastRemaining = remaining;
        }
        Response refused = training(key);
        refused.then().statusCode(429).body("error.code", equalTo("rate_limit_exceeded"))
                .body("error.message", containsString("Rate limit of 3 "))
                .header("X-RateLimit-Limit", "3").header("X-RateLimit-Remaining", "0")
                .header("RateLimit-Policy", "\"training\";q=3;w=60");
        Matcher m = RATE_LIMIT.matcher(refused.header("RateLimit"));
        assertTrue(m.matches(), "RateLimit: " + refused.header("RateLimit"));
        assertEquals(0, Integer.parseInt(m.group(1)));
        long retryAfter = Long.parseLong(refused.header("Retry-After"));
        assertTrue(retryAfter >= Long.parseLong(m.group(2)) && retryAfter <= 60,
                "Retry-After " + retryAfter + " is not before the end of the effective window t=" + m.group(2));
        // Other areas keep the configured limit.
        given().header("x-api-key", key.secret()).get("/v1/datasets").then().statusCode(200)
                .header("X-RateLimit-Limit", "60").header("RateLimit-Policy", "\"data\";q=60;w=60")
                .header("RateLimit", containsString("\"data\";r=59;t="));
    }

    @Test
    void aRaisedLimitLetsMoreThroughAndNullReturnsToTheConfiguredLimit() {
        var key = GatewayTestKeys.create("team-limits", "read");
        patch(key.id(), "{\"limits\": {\"training\": 15, \"inference\": 500}}").then().statusCode(200)
                .body("limits.training", equalTo(15)).body("limits.inference", equalTo(500));
        for (int i = 1; i <= 15; i++) {
            training(key).then().statusCode(503).header("X-RateLimit-Limit", "15")
                    .header("X-RateLimit-Remaining", String.valueOf(15 - i))
                    .header("RateLimit", containsString("\"training\";r=" + (15 - i) + ";t="));
        }
        training(key).then().statusCode(429).header("RateLimit", containsString("\"training\";r=0;t="));
        // Back to the configured 10: the 16 requests counted so far are over it.
        patch(key.id(), "{\"limits\": {\"training\": null}}").then().statusCode(200)
                .body("limits.training", equalTo(10)).body("limits.inference", equalTo(500))
                .body("limit_overrides.training", equalTo(null)).body("limit_overrides.inference", equalTo(500));
        training(key).then().statusCode(429).header("X-RateLimit-Limit", "10");
        patch(key.id(), "{\"limits\": {\"inference\": null}}").then().statusCode(200)
                .body("limit_overrides", anEmptyMap());
        // The list shows the same.
        admin().queryParam("team", "team-limits").queryParam("limit", "100").get("/v1/admin/api-keys").then().statusCode(200)
                .body("api_keys.find { it.key_id == '" + key.id() + "' }.limits.inference", equalTo(100))
                .body("api_keys.find { it.key_id == '" + key.id() + "' }.limit_overrides", anEmptyMap());
    }

    @Test
    void aNewKeyShowsTheConfiguredLimits() {
        admin().body("{\"team\": \"team-limits\", \"scopes\": [\"read\"], \"name\": \"limits shown\"}").post("/v1/admin/api-keys")
                .then().statusCode(201)
                .body("status", equalTo("active")).body("created_by", equalTo("00112233445566ff"))
                .body("limits.training", equalTo(10)).body("limits.inference", equalTo(100)).body("limits.model", equalTo(60))
                .body("limits.data", equalTo(60)).body("limits.infrastructure", equalTo(60))
                .body("limit_overrides", anEmptyMap());
    }

    @Test
    void limitChangesAreValidated() {
        var key = GatewayTestKeys.create("team-limits", "read");
        assertInvalid(patch(key.id(), "{\"limitz\": {\"training\": 5}}"), "limitz");
        assertInvalid(patch(key.id(), "{\"limits\": {\"training\": 5}, \"scopes\": [\"admin\"]}"), "scopes");
        assertInvalid(patch(key.id(), "{\"limits\": {\"gpu\": 5}}"), "limits.gpu");
        assertInvalid(patch(key.id(), "{\"limits\": {\"training\": 0}}"), "limits.training");
        assertInvalid(patch(key.id(), "{\"limits\": {\"training\": -3}}"), "limits.training");
        assertInvalid(patch(key.id(), "{\"limits\": {\"training\": 1.5}}"), "limits.training");
        assertInvalid(patch(key.id(), "{\"limits\": {\"training\": \"10\"}}"), "limits.training");
        assertInvalid(patch(key.id(), "{\"limits\": {\"training\": 3000000000}}"), "limits.training")
                .body("error.message", containsString("up to 2147483647"));
        assertInvalid(patch(key.id(), "{\"limits\": {}}"), "limits");
        assertInvalid(patch(key.id(), "{\"limits\": null}"), "limits");
        assertInvalid(patch(key.id(), "{}"), "limits");
        assertInvalid(patch(key.id(), "{\"limits\": [5]}"), "limits");
        assertInvalid(patch(key.id(), "{\"limits\": {\"training\": 1e999}}"), "limits.training")
                .body("error.message", containsString("got a number beyond any limit"));
        // a second body after the first is refused, not ignored
        assertInvalid(patch(key.id(), "{\"limits\": {\"training\": 5}}{\"limits\": {\"training\": 50}}"), "more than one JSON value");
        // Nothing of it was applied.
        training(key).then().header("X-RateLimit-Limit", "10");
        patch("0000000000000000", "{\"limits\": {\"training\": 5}}").then().statusCode(404)
                .body("error.code", equalTo("not_found")).body("error.message", containsString("0000000000000000"));
        given().header("x-api-key", key.secret()).contentType(ContentType.JSON).body("{\"limits\": {\"training\": 500}}")
                .patch("/v1/admin/api-keys/" + key.id()).then().statusCode(403);
        admin().delete("/v1/admin/api-keys/" + key.id()).then().statusCode(200);
        patch(key.id(), "{\"limits\": {\"training\": 5}}").then().statusCode(409).body("error.code", equalTo("conflict"));
    }
}
