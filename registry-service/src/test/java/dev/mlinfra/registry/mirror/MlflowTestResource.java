package dev.mlinfra.registry.mirror;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.Map;
import java.util.UUID;

/**
 * Starts an {@link MlflowTestServer} for the annotated test class and points the mirror at it
 * ({@code mlinfra.registry.mlflow.url}, with a bearer token). Use it with
 * {@code restrictToAnnotatedClass = true}: other test classes run without the mirror. The server is
 * handed to fields annotated {@link Server}. Init arg {@value #TRANSITION_STAGES} sets
 * {@code mlinfra.registry.mlflow.transition-stages} (default true).
 *
 * <p>Retries are quick here (a short MLflow timeout, back-off of at most half a second), so a test
 * that takes MLflow away does not wait long once it is back.
 */
public class MlflowTestResource implements QuarkusTestResourceLifecycleManager {

    public static final String TRANSITION_STAGES = "transition-stages";

    /** Receives the running test server. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.FIELD)
    public @interface Server {
    }

    private MlflowTestServer server;
    private String transitionStages = "true";

    @Override
    public void init(Map<String, String> initArgs) {
        transitionStages = initArgs.getOrDefault(TRANSITION_STAGES, "true");
    }

    @Override
    public Map<String, String> start() {
        String token = "mlflow-" + UUID.randomUUID();
        try {
            server = MlflowTestServer.start(token);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot start the MLflow test server", e);
        }
        return Map.of(
                "mlinfra.registry.mlflow.url", server.url(),
                "mlinfra.registry.mlflow.token", token,
                "mlinfra.registry.mlflow.transition-stages", transitionStages,
                "mlinfra.registry.mlflow.timeout", "PT2S",
                "mlinfra.events.retry.max-backoff", "PT0.5S");
    }

    @Override
    public void inject(TestInjector testInjector) {
        testInjector.injectIntoFields(server, new TestInjector.AnnotatedAndMatchesType(Server.class, MlflowTestServer.class));
    }

    @Override
    public void stop() {
        if (server != null) {
            server.stop();
        }
    }
}
