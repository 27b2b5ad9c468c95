package dev.mlinfra.inference.backend;

import dev.mlinfra.inference.config.InferenceConfig;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * The backend named by {@code mlinfra.inference.backend}. Every implementation is a bean with an
 * {@code @Identifier} of its name; the service only ever sees {@link ServingBackend}.
 */
@ApplicationScoped
public class Backends {

    @Produces
    @Singleton
    ServingBackend selected(@Any Instance<ServingBackend> backends, InferenceConfig config) {
        Instance<ServingBackend> chosen = backends.select(Identifier.Literal.of(config.backend()));
        if (!chosen.isResolvable()) {
            throw new IllegalStateException("mlinfra.inference.backend=" + config.backend() + " names no serving backend"
                    + " (available: " + LocalServingBackend.NAME + ", " + OpenAiServingBackend.NAME
                    + ", " + KServeServingBackend.NAME + ")");
        }
        return chosen.get();
    }
}
