package dev.mlinfra.datasets.rest;

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
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "datasets"))
class DatasetScopeTest {

    @Test
    void aReadOnlyKeyCannotCreateOrDeleteDatasets() {
        String team = "team-" + UUID.randomUUID();
        String readOnly = TestIdentities.token(team, "read");

        assertForbidden(given().header("x-mlinfra-identity", readOnly).contentType(ContentType.JSON)
                .body("{\"name\":\"scoped\",\"format\":\"jsonl\"}").post("/v1/datasets/upload").then());
        assertForbidden(given().header("x-mlinfra-identity", readOnly).delete("/v1/datasets/scoped").then());

        given().header("x-mlinfra-identity", readOnly).get("/v1/datasets").then().statusCode(200)
                .body("total", equalTo(0));
    }
}
