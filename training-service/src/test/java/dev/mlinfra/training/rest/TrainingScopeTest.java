package dev.mlinfra.training.rest;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.mlinfra.testsupport.DevstackResource;
import dev.mlinfra.testsupport.TestIdentities;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The service checks the token's scopes itself (@RolesAllowed), beside the gateway's check. */
@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "training"))
class TrainingScopeTest {

    @Test
    void aReadOnlyKeyCannotStartOrCancelJobs() {
        String team = "team-" + UUID.randomUUID();
        String readOnly = TestIdentities.token(team, "read");

        forbidden(given().header("x-mlinfra-identity", readOnly).contentType(ContentType.JSON)
                .body("{\"model_type\":\"llama-tiny\",\"dataset_id\":\"issues\",\"config\":{}}")
                .post("/v1/training/jobs").then());
        forbidden(given().header("x-mlinfra-identity", readOnly).post("/v1/training/jobs/" + UUID.randomUUID() + "/cancel").then());

        given().header("x-mlinfra-identity", readOnly).get("/v1/training/jobs").then().statusCode(200)
                .body("total", equalTo(0));
    }

    @Test
    void aWriteOnlyKeyCannotReadJobs() {
        forbidden(given().header("x-mlinfra-identity", TestIdentities.token("team-a", "write")).get("/v1/training/jobs").then());
    }

    private static void forbidden(ValidatableResponse response) {
        response.statusCode(403).contentType(ContentType.JSON)
                .body("error.code", equalTo("forbidden")).body("error.status", equalTo(403))
                .body("error.message", containsString("scope"));
    }
}
