package dev.mlinfra.training.backend;

import dev.mlinfra.training.config.TrainingConfig;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * The backend named by {@code mlinfra.training.backend}. Every implementation is a bean with an
 * {@code @Identifier} of its name; the service only ever sees {@link TrainingBackend}.
 */
@ApplicationScoped
public class Backends {

    @Produces
    @Singleton
    TrainingBackend selected(@Any Instance<TrainingBackend> backends, TrainingConfig config) {
        Instance<TrainingBackend> chosen = backends.select(Identifier.Literal.of(config.backend()));
        if (!chosen.isResolvable()) {
            throw new IllegalStateException("mlinfra.training.backend=" + config.backend() + " names no training backend"
                    + " (available: " + LocalTrainingBackend.NAME + ", " + KubeflowTrainingBackend.NAME + ")");
        }
        return chosen.get();
    }
}
