package dev.mlinfra.gateway;

import dev.mlinfra.devstack.process.FreePorts;
import dev.mlinfra.testsupport.ServiceProcess;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The services a training job needs, as real processes behind the gateway under test:
 * dataset-service, infra-service (the GPU ledger: one execution slot) and training-service with
 * its local backend, whose trainers are llm-engine processes.
 */
public class TrainingPlatform implements QuarkusTestResourceLifecycleManager {

    public static final String BOOTSTRAP_KEY = GatewayTestBackends.BOOTSTRAP_KEY;
    static ServiceProcess datasets;
    static ServiceProcess infra;
    static ServiceProcess training;

    @Override
    public Map<String, String> start() {
        Path root = Path.of(System.getProperty("mlinfra.root"));
        Path target = root.resolve("gateway/target");
        // job ids start again with every test database: no folder of an earlier run may be taken for theirs
        deleteTree(target.resolve("training-jobs"));
        int gatewayPort = FreePorts.pick();
        String publicUrl = "http://127.0.0.1:" + gatewayPort;
        datasets = ServiceProcess.start("dataset-service", Map.of("mlinfra.public-url", publicUrl));
        infra = ServiceProcess.start("infra-service", Map.of("mlinfra.public-url", publicUrl));
        Map<String, String> trainingConfig = new HashMap<>();
        trainingConfig.put("mlinfra.public-url", publicUrl);
        trainingConfig.put("quarkus.rest-client.datasets.url", datasets.url());
        trainingConfig.put("quarkus.rest-client.gpu-ledger.url", infra.url());
        trainingConfig.put("mlinfra.training.local.engine-jar", root.resolve("llm-engine/target/llm-engine.jar").toString());
        trainingConfig.put("mlinfra.training.local.work-dir", target.resolve("training-jobs").toString());
        trainingConfig.put("mlinfra.training.local.engine-data-dir", target.resolve("engine-data").toString());
        // the PyTorch library llm-engine's own tests unpacked already
        trainingConfig.put("mlinfra.training.local.jvm-options", "-Xmx1g -XX:+UseSerialGC --enable-native-access=ALL-UNNAMED"
                + " -Dmlinfra.djl.cache-dir=" + root.resolve("llm-engine/target/djl-cache"));
        trainingConfig.put("mlinfra.training.reconcile-interval", "2s");
        training = ServiceProcess.start("training-service", trainingConfig);

        Map<String, String> config = new HashMap<>();
        config.put("quarkus.http.test-port", String.valueOf(gatewayPort));
        config.put("mlinfra.gateway.services.datasets.url", datasets.url());
        config.put("mlinfra.gateway.services.training.url", training.url());
        config.put("mlinfra.gateway.services.infrastructure.url", infra.url());
        config.put("mlinfra.gateway.services.registry.url", "http://127.0.0.1:" + FreePorts.pick());
        config.put("mlinfra.gateway.services.inference.url", "http://127.0.0.1:" + FreePorts.pick());
        // the tests poll jobs; the limits themselves are tested in GatewayTest
        config.put("mlinfra.gateway.rate-limit.limits.training", "100000");
        config.put("mlinfra.gateway.rate-limit.limits.data", "100000");
        config.put("mlinfra.gateway.rate-limit.limits.admin", "100000");
        config.put("mlinfra.gateway.auth.bootstrap-api-key", BOOTSTRAP_KEY);
        return config;
    }

    /** training-service's work folder, where each job's trainer log is. */
    public static Path jobDir(String jobId) {
        return Path.of(System.getProperty("mlinfra.root"), "gateway/target/training-jobs", jobId);
    }

    /** Restarts training-service on the same address (trainers keep running meanwhile). */
    public static void restartTraining() {
        training = training.restart();
    }

    public static void stopTraining() {
        training.stop();
    }

    private static void deleteTree(Path dir) {
        if (!java.nio.file.Files.exists(dir)) {
            return;
        }
        try (var paths = java.nio.file.Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void stop() {
        for (ServiceProcess p : new ServiceProcess[] {training, infra, datasets}) {
            if (p != null) {
                p.stop();
            }
        }
    }
}
