package dev.mlinfra.training.backend;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/** training-service with the kubeflow backend, placing its trainers on GPU nodes. */
public class KubeflowProfile implements QuarkusTestProfile {

    static final String NAMESPACE = "mlinfra-training";

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of(
                "mlinfra.training.backend", "kubeflow",
                "mlinfra.training.kubeflow.namespace", NAMESPACE,
                "mlinfra.training.kubeflow.node-selector.\"nvidia.com/gpu.product\"", "NVIDIA-H100-80GB-HBM3",
                "mlinfra.training.kubeflow.tolerations", "nvidia.com/gpu:NoSchedule,dedicated=training",
                "mlinfra.training.reconcile-interval", "2s");
    }
}
