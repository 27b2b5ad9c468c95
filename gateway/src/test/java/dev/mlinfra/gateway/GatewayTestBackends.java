package dev.mlinfra.gateway;

import dev.mlinfra.testsupport.ServiceProcess;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.util.HashMap;
import java.util.Map;

/**
 * The gateway's backends in tests: the real dataset-service as a process, a port where nothing
 * listens (training: the service is down) and a socket that accepts but never answers
 * (infrastructure: the service hangs).
 */
public class GatewayTestBackends implements QuarkusTestResourceLifecycleManager {

    public static final String BOOTSTRAP_KEY = "mlk_00112233445566ff_" + "Bootstrap-admin-key-for-tests_01";

    /** The gateway's own log (every line the console gets, the access log included), for tests that read it. */
    public static final java.nio.file.Path GATEWAY_LOG = java.nio.file.Path.of("target", "gateway-test.log").toAbsolutePath();

    static ServiceProcess datasets;
    private ServerSocket silent;

    @Override
    public Map<String, String> start() {
        int gatewayPort = freePort();
        // Upload URLs handed out by dataset-service point at this gateway.
        datasets = ServiceProcess.start("dataset-service", "datasets",
                Map.of("mlinfra.public-url", "http://127.0.0.1:" + gatewayPort));
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0)) {
            closedPort = probe.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            silent = new ServerSocket(0, 50);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> config = new HashMap<>();
        config.put("quarkus.http.test-port", String.valueOf(gatewayPort));
        config.put("mlinfra.gateway.services.datasets.url", datasets.url());
        config.put("mlinfra.gateway.services.training.url", "http://127.0.0.1:" + closedPort);
        config.put("mlinfra.gateway.services.registry.url", "http://127.0.0.1:" + closedPort);
        config.put("mlinfra.gateway.services.inference.url", "http://127.0.0.1:" + closedPort);
        config.put("mlinfra.gateway.services.infrastructure.url", "http://127.0.0.1:" + silent.getLocalPort());
        // Long enough for the first requests to a dataset-service process just started on a busy
        // machine (its first database and store calls are slow); the hanging service still gets its 504.
        config.put("mlinfra.gateway.proxy.response-timeout", "PT10S");
        config.put("mlinfra.gateway.proxy.max-body-size", "4K");
        config.put("mlinfra.gateway.rate-limit.limits.admin", "100000");
        config.put("mlinfra.gateway.auth.bootstrap-api-key", BOOTSTRAP_KEY);
        config.put("mlinfra.gateway.auth.cache-ttl", "PT2S");
        config.put("quarkus.log.file.enabled", "true");
        config.put("quarkus.log.file.path", GATEWAY_LOG.toString());
        return config;
    }

    private static int freePort() {
        try (ServerSocket probe = new ServerSocket(0)) {
            return probe.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String datasetServiceUrl() {
        return datasets.url();
    }

    public static java.nio.file.Path datasetServiceLog() {
        return datasets.logFile();
    }

    @Override
    public void stop() {
        if (datasets != null) {
            datasets.stop();
        }
        try {
            if (silent != null) {
                silent.close();
            }
        } catch (IOException ignored) {
            // closing a test socket
        }
    }
}
