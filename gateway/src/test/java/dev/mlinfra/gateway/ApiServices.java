package dev.mlinfra.gateway;

import dev.mlinfra.devstack.process.FreePorts;
import dev.mlinfra.testsupport.ServiceProcess;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every service behind the gateway as a process, idle (no job runs, no model is served): for
 * tests of what the services describe rather than of what they do, such as the API document.
 */
public class ApiServices implements QuarkusTestResourceLifecycleManager {

    /** By the gateway's name of each service ({@code mlinfra.gateway.services.<name>}). */
    private static final Map<String, ServiceProcess> SERVICES = new LinkedHashMap<>();

    @Override
    public Map<String, String> start() {
        int gatewayPort = FreePorts.pick();
        Path root = Path.of(System.getProperty("mlinfra.root"));
        Map<String, String> shared = Map.of("mlinfra.public-url", "http://127.0.0.1:" + gatewayPort);
        int trainingPort = FreePorts.pick();
        Map<String, String> datasets = new HashMap<>(shared);
        datasets.put("quarkus.rest-client.training.url", "http://127.0.0.1:" + trainingPort);
        SERVICES.put("datasets", ServiceProcess.start("dataset-service", datasets));
        SERVICES.put("infrastructure", ServiceProcess.start("infra-service", shared));
        Map<String, String> training = new HashMap<>(shared);
        training.put("quarkus.rest-client.datasets.url", SERVICES.get("datasets").url());
        training.put("quarkus.rest-client.gpu-ledger.url", SERVICES.get("infrastructure").url());
        training.put("mlinfra.training.local.engine-jar", root.resolve("llm-engine/target/llm-engine.jar").toString());
        training.put("mlinfra.training.local.work-dir", root.resolve("gateway/target/api-services/training-jobs").toString());
        SERVICES.put("training", ServiceProcess.startOn(trainingPort, "training-service", training));
        Map<String, String> registry = new HashMap<>(shared);
        registry.put("quarkus.rest-client.training.url", SERVICES.get("training").url());
        SERVICES.put("registry", ServiceProcess.start("registry-service", registry));
        Map<String, String> inference = new HashMap<>(shared);
        inference.put("quarkus.rest-client.registry.url", SERVICES.get("registry").url());
        inference.put("mlinfra.inference.local.model-server-jar",
                root.resolve("model-server/target/quarkus-app/quarkus-run.jar").toString());
        inference.put("mlinfra.inference.local.work-dir", root.resolve("gateway/target/api-services/serving").toString());
        SERVICES.put("inference", ServiceProcess.start("inference-service", inference));

        Map<String, String> config = new HashMap<>();
        config.put("quarkus.http.test-port", String.valueOf(gatewayPort));
        SERVICES.forEach((name, service) -> config.put("mlinfra.gateway.services." + name + ".url", service.url()));
        config.put("mlinfra.gateway.auth.bootstrap-api-key", GatewayTestBackends.BOOTSTRAP_KEY);
        return config;
    }

    /** The gateway's names of the services, as configured. */
    public static List<String> names() {
        return List.copyOf(SERVICES.keySet());
    }

    /** Stops a service as a crash of its host would leave it: nothing answers on its port. */
    public static void stop(String name) {
        SERVICES.get(name).stop();
    }

    @Override
    public void stop() {
        SERVICES.values().forEach(ServiceProcess::stop);
        SERVICES.clear();
    }
}
