package dev.mlinfra.registry.mirror;

import dev.mlinfra.commons.events.ModelEvents;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/**
 * The MLflow mirror: which MLflow Model Registry receives the registry's models, versions and
 * stages. Without {@link #url()} the mirror is off.
 */
@ConfigMapping(prefix = "mlinfra.registry.mlflow")
public interface MlflowMirrorConfig {

    /** Base URL of the MLflow tracking server, e.g. {@code http://mlflow:5000}; absent: the mirror is off. */
    Optional<String> url();

    /** Bearer token sent as {@code Authorization} (MLflow behind an authenticating proxy); absent: none is sent. */
    Optional<String> token();

    /** Also move MLflow's deprecated stages (None, Staging, Production, Archived), for servers that predate aliases. */
    @WithDefault("false")
    boolean transitionStages();

    /** Kafka topic of the model events the mirror follows. */
    @WithDefault(ModelEvents.TOPIC)
    String topic();

    /** Longest wait for one MLflow call, connection included; a call that takes longer fails and its event is retried. */
    @WithDefault("PT10S")
    Duration timeout();
}
