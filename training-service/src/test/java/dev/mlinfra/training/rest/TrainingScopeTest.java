package dev.mlinfra.training.rest;

import static dev.mlinfra.testsupport.ServiceBaselineTests.assertForbidden;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import dev.mlinfra.testsupport.DevstackResource;
import dev.mlinfra.testsupport.TestIdentities;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
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

        assertForbidden(given().header("x-mlinfra-identity", readOnly).contentType(ContentType.JSON)
                .body("{\"model_type\":\"llama-tiny\",\"dataset_id\":\"issues\",\"config\":{}}")
                .post("/v1/training/jobs").then());
        assertForbidden(given().header("x-mlinfra-identity", readOnly).post("/v1/training/jobs/" + UUID.randomUUID() + "/cancel").then());

        given().header("x-mlinfra-identity", readOnly).get("/v1/training/jobs").then().statusCode(200)
                .body("total", equalTo(0));
    }
}
