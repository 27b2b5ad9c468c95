package dev.mlinfra.registry.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Configuration of registry-service's models (the MLflow mirror has its own, {@code mlinfra.registry.mlflow}). */
@ConfigMapping(prefix = "mlinfra.registry")
public interface RegistryConfig {

    /** Kafka topic of model events. */
    @WithDefault("mlinfra.models")
    String topic();

    /** The model types models can be of. */
    @WithDefault("scout,maverick")
    List<String> modelTypes();

    /**
     * Promotion gates, as data: team ({@code "*"} for every team without gates of its own) → stage
     * ({@code staging}, {@code production}) → metric of the evaluated metrics → bounds, e.g.
     * {@code mlinfra.registry.promotion-gates.platform.production.f1.min=0.8}.
     */
    @WithName("promotion-gates")
    Map<String, Map<String, Map<String, Bound>>> promotionGates();

    /** The bounds a metric must keep for a version to enter a stage. */
    interface Bound {

        /** The metric must be at least this. */
        Optional<Double> min();

        /** The metric must be at most this (e.g. eval_loss). */
        Optional<Double> max();
    }
}
