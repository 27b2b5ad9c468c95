package dev.mlinfra.gateway;

import dev.mlinfra.devstack.process.FreePorts;
import dev.mlinfra.testsupport.ServiceProcess;
import dev.mlinfra.testsupport.TrainingStack;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The services a training job needs ({@link TrainingStack}: dataset-service, infra-service's GPU
 * ledger, training-service with real trainers), registry-service, which registers models from
 * the jobs, and inference-service, which serves them with its local backend (a real model-server
 * process), as processes behind the gateway under test.
 */
public class TrainingPlatform implements QuarkusTestResourceLifecycleManager {

    static TrainingStack stack;
    static ServiceProcess registry;
    static ServiceProcess inference;

    @Override
    public Map<String, String> start() {
        int gatewayPort = FreePorts.pick();
        int gatewayManagementPort = FreePorts.pick();
        stack = TrainingStack.start(Path.of(System.getProperty("mlinfra.root"), "gateway/target"),
                Map.of("mlinfra.public-url", "http://127.0.0.1:" + gatewayPort));
        registry = ServiceProcess.start("registry-service", Map.of(
                "mlinfra.public-url", "http://127.0.0.1:" + gatewayPort,
                "quarkus.rest-client.training.url", stack.training().url()));
        Path root = Path.of(System.getProperty("mlinfra.root"));
        inference = ServiceProcess.start("inference-service", Map.of(
                "mlinfra.public-url", "http://127.0.0.1:" + gatewayPort,
                "quarkus.rest-client.registry.url", registry.url(),
                "mlinfra.inference.local.model-server-jar", root.resolve("model-server/target/quarkus-app/quarkus-run.jar").toString(),
                "mlinfra.inference.local.work-dir", root.resolve("gateway/target/serving").toString(),
                "mlinfra.inference.local.engine-data-dir", stack.engineDataDir().toString()));
        // the status probes every service: infra-service learns the ones started after it
        Map<String, String> peers = new HashMap<>();
        peers.put("mlinfra.infra.services.gateway.url", "http://127.0.0.1:" + gatewayPort);
        peers.put("mlinfra.infra.services.gateway.management-url", "http://127.0.0.1:" + gatewayManagementPort);
        Map.of("dataset_service", stack.datasets(), "training_service", stack.training(), "registry_service", registry,
                "inference_service", inference).forEach((key, service) -> {
                    peers.put("mlinfra.infra.services." + key + ".url", service.url());
                    peers.put("mlinfra.infra.services." + key + ".management-url", service.managementUrl());
                });
        peers.put("mlinfra.infra.local.processes.serving_backend", "-Dmlinfra.serving.work-dir="
                + root.resolve("gateway/target/serving").toAbsolutePath());
        stack.restartInfra(peers);
        Map<String, String> config = new HashMap<>();
        config.put("quarkus.http.test-port", String.valueOf(gatewayPort));
        config.put("quarkus.management.test-port", String.valueOf(gatewayManagementPort));
        config.put("mlinfra.gateway.services.datasets.url", stack.datasets().url());
        config.put("mlinfra.gateway.services.training.url", stack.training().url());
        config.put("mlinfra.gateway.services.infrastructure.url", stack.infra().url());
        config.put("mlinfra.gateway.services.registry.url", registry.url());
        config.put("mlinfra.gateway.services.inference.url", inference.url());
        // the tests poll jobs; the limits themselves are tested in GatewayTest
        config.put("mlinfra.gateway.rate-limit.limits.training", "100000");
        config.put("mlinfra.gateway.rate-limit.limits.data", "100000");
        config.put("mlinfra.gateway.rate-limit.limits.admin", "100000");
        config.put("mlinfra.gateway.rate-limit.limits.model", "100000");
        config.put("mlinfra.gateway.rate-limit.limits.inference", "100000");
        config.put("mlinfra.gateway.rate-limit.limits.infrastructure", "100000");
        config.put("mlinfra.gateway.auth.bootstrap-api-key", GatewayTestBackends.BOOTSTRAP_KEY);
        return config;
    }

    /** training-service's folder of a job, where its spec and its trainer's log are. */
    public static Path jobDir(String jobId) {
        return stack.jobDir(jobId);
    }

    /** Restarts training-service on the same address (trainers keep running meanwhile). */
    public static void restartTraining() {
        stack.restartTraining();
    }

    public static void stopTraining() {
        stack.stopTraining();
    }

    /** Kills training-service (SIGKILL, as a crash); trainers run on meanwhile. */
    public static void killTraining() {
        stack.killTraining();
    }

    /** Kills inference-service (SIGKILL, as a crash) and starts it again on its ports; its model servers run on meanwhile. */
    public static void killAndRestartInference() {
        inference.kill();
        inference = inference.restart();
    }

    /** inference-service's own address (beside the gateway), for what only services ask it. */
    public static String inferenceUrl() {
        return inference.url();
    }

    @Override
    public void stop() {
        if (inference != null) {
            inference.stop();
        }
        if (registry != null) {
            registry.stop();
        }
        if (stack != null) {
            stack.close();
        }
    }
}
