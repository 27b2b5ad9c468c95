package dev.mlinfra.registry;

import dev.mlinfra.testsupport.TrainingStack;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Path;
import java.util.Map;

/**
 * registry-service's peers in its tests: training-service with real trainers (and the dataset and
 * GPU services it needs, {@link TrainingStack}), so that models are registered from jobs that
 * really completed. Team {@value #GATED} has a promotion gate: production needs f1 >= 0.8.
 */
public class RegistryTestPeers implements QuarkusTestResourceLifecycleManager {

    public static final String GATED = "gated-team";
    public static TrainingStack stack;

    @Override
    public Map<String, String> start() {
        stack = TrainingStack.start(Path.of(System.getProperty("mlinfra.root"), "registry-service/target"), Map.of());
        return Map.of(
                "quarkus.rest-client.training.url", stack.training().url(),
                "mlinfra.registry.promotion-gates." + GATED + ".production.f1.min", "0.8");
    }

    @Override
    public void stop() {
        if (stack != null) {
            stack.close();
        }
    }
}
