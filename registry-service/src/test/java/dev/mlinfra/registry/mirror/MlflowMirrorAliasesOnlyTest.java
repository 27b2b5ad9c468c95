package dev.mlinfra.registry.mirror;

import static dev.mlinfra.registry.mirror.ModelEventsHarness.await;
import static dev.mlinfra.registry.mirror.ModelEventsHarness.mlflowName;
import static dev.mlinfra.registry.mirror.ModelEventsHarness.newModelId;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.testsupport.DevstackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The mirror with its defaults: stages become aliases only, MLflow's deprecated stages stay untouched. */
@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "registry"))
@QuarkusTestResource(value = MlflowTestResource.class, restrictToAnnotatedClass = true,
        initArgs = @ResourceArg(name = MlflowTestResource.TRANSITION_STAGES, value = "false"))
class MlflowMirrorAliasesOnlyTest {

    @MlflowTestResource.Server
    MlflowTestServer mlflow;

    @Inject
    ObjectMapper json;

    @Test
    void withoutStageTransitionsOnlyTheAliasesMove() {
        ModelEventsHarness events = new ModelEventsHarness(json);
        String model = newModelId();
        String name = mlflowName(model);

        events.publish(events.registered(model, "v1.0.0"),
                events.stageChanged(model, "v1.0.0", "none", "staging"),
                events.stageChanged(model, "v1.0.0", "staging", "production"));
        await("the production alias", () -> Map.of("production", "1").equals(mlflow.aliases(name)), () -> mlflow.changesOf(name));

        assertEquals("None", mlflow.versions(name).get("1").stage);
        assertEquals(List.of("create-model " + name, "create-version " + name + " 1 v1.0.0",
                "set-alias " + name + " staging=1", "set-alias " + name + " production=1", "delete-alias " + name + " staging"),
                mlflow.changesOf(name));
    }
}
