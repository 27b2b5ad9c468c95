package dev.mlinfra.gateway;

import static io.restassured.RestAssured.given;

import io.restassured.http.ContentType;
import java.util.List;
import java.util.UUID;

/** Makes API keys through the real admin API, one per test so rate windows never overlap. */
public final class GatewayTestKeys {

    public record Key(String id, String secret) {
    }

    private GatewayTestKeys() {
    }

    public static Key create(String team, String... scopes) {
        var body = given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY)
                .contentType(ContentType.JSON)
                .body(java.util.Map.of("team", team, "scopes", List.of(scopes), "name", "test " + UUID.randomUUID()))
                .post("/v1/admin/api-keys")
                .then().statusCode(201)
                .extract().jsonPath();
        return new Key(body.getString("key_id"), body.getString("api_key"));
    }
}
