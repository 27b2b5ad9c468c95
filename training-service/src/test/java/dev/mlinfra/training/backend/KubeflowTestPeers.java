package dev.mlinfra.training.backend;

import dev.mlinfra.testsupport.ServiceProcess;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;
import java.util.UUID;

/**
 * The kubeflow backend's peers: the real dataset-service and infra-service (its GPU ledger grants the
 * jobs, so their TrainJobs are created), as processes, on a capacity topic of their own with room for
 * every job of the tests.
 */
public class KubeflowTestPeers implements QuarkusTestResourceLifecycleManager {

    static ServiceProcess datasets;
    private ServiceProcess infra;

    @Override
    public Map<String, String> start() {
        String gpuTopic = "mlinfra.gpu.kubeflow-tests-" + UUID.randomUUID();
        datasets = ServiceProcess.start("dataset-service", Map.of());
        infra = ServiceProcess.start("infra-service", Map.of("mlinfra.gpu.topic", gpuTopic, "mlinfra.gpu.pools.local.size", "8"));
        return Map.of(
                "quarkus.rest-client.datasets.url", datasets.url(),
                "quarkus.rest-client.gpu-ledger.url", infra.url(),
                "mlinfra.training.gpu-topic", gpuTopic);
    }

    @Override
    public void stop() {
        if (infra != null) {
            infra.stop();
        }
        if (datasets != null) {
            datasets.stop();
        }
    }
}
