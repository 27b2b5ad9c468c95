package dev.mlinfra.registry;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import dev.mlinfra.testsupport.DevstackResource;
import dev.mlinfra.testsupport.ServiceBaselineTests;
import dev.mlinfra.testsupport.TestIdentities;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "registry"))
class RegistryServiceBaselineTest extends ServiceBaselineTests {

    @Override
    protected String ownedPath() {
        return "/v1/models";
    }

    @Test
    void withoutAnMlflowUrlTheMirrorSaysItIsOff() {
        given().header("x-mlinfra-identity", TestIdentities.token("platform", "read"))
                .get("/internal/v1/registry/mlflow-mirror").then().statusCode(200)
                .body("enabled", equalTo(false)).body("url", nullValue()).body("lag_seconds", nullValue());
    }
}
