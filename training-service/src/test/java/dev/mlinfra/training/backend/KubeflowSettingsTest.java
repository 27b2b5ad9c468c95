package dev.mlinfra.training.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.TolerationBuilder;
import org.junit.jupiter.api.Test;

/** The kubeflow backend's settings: only pinned trainer images start, and tolerations read as written. */
class KubeflowSettingsTest {

    @Test
    void onlyAPinnedImageCanStartATrainer() {
        assertTrue(KubeflowTrainingBackend.imageProblem("mlinfra/llm-engine:0.1.0").isEmpty());
        assertTrue(KubeflowTrainingBackend.imageProblem("registry.local:5000/mlinfra/llm-engine:0.1.0").isEmpty());
        assertTrue(KubeflowTrainingBackend.imageProblem("mlinfra/llm-engine@sha256:" + "a".repeat(64)).isEmpty());
        for (String unpinned : new String[] {"mlinfra/llm-engine", "mlinfra/llm-engine:latest", "registry.local:5000/mlinfra/llm-engine"}) {
            String problem = KubeflowTrainingBackend.imageProblem(unpinned).orElseThrow(() -> new AssertionError(unpinned));
            assertTrue(problem.contains(unpinned) && problem.contains("mlinfra.training.kubeflow.image"), problem);
        }
    }

    @Test
    void tolerationsReadAsKeyValueAndEffect() {
        assertEquals(new TolerationBuilder().withKey("nvidia.com/gpu").withOperator("Exists").build(),
                KubeflowTrainingBackend.toleration("nvidia.com/gpu"));
        assertEquals(new TolerationBuilder().withKey("nvidia.com/gpu").withOperator("Exists").withEffect("NoSchedule").build(),
                KubeflowTrainingBackend.toleration("nvidia.com/gpu:NoSchedule"));
        assertEquals(new TolerationBuilder().withKey("dedicated").withOperator("Equal").withValue("ml").withEffect("NoExecute").build(),
                KubeflowTrainingBackend.toleration(" dedicated=ml:NoExecute "));
    }
}
