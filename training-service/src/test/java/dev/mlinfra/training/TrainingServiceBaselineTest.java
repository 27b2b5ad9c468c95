package dev.mlinfra.training;

import dev.mlinfra.testsupport.DevstackResource;
import dev.mlinfra.testsupport.ServiceBaselineTests;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;

@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "training"))
class TrainingServiceBaselineTest extends ServiceBaselineTests {

    @Override
    protected String ownedPath() {
        return "/v1/training/jobs";
    }
}
