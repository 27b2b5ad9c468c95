package dev.mlinfra.inference;

import dev.mlinfra.testsupport.DevstackResource;
import dev.mlinfra.testsupport.ServiceBaselineTests;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;

@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "inference"))
class InferenceServiceBaselineTest extends ServiceBaselineTests {

    @Override
    protected String ownedPath() {
        return "/v1/deployments";
    }
}
