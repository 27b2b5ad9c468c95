package dev.mlinfra.registry.mirror;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * For the platform's status (infra-service): whether the MLflow mirror is on, where it mirrors to,
 * how far behind it is and how often it failed. The gateway does not route /internal.
 */
@Path("/internal/v1/registry/mlflow-mirror")
@Produces(MediaType.APPLICATION_JSON)
public class MirrorStatusResource {

    /** The mirror's state; {@code url} without credentials, absent (like the numbers) when the mirror is off. */
    public record MirrorStatus(boolean enabled, String url, boolean transitionStages, Double lagSeconds,
            Map<String, Long> mirrored, Map<String, Long> failures, MirrorMetrics.Failure lastFailure) {
    }

    private final MlflowMirrorConfig config;
    private final MirrorMetrics metrics;

    public MirrorStatusResource(MlflowMirrorConfig config, MirrorMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
    }

    @GET
    @Operation(summary = "The MLflow mirror: on or off, its lag, events mirrored and failed attempts")
    public MirrorStatus status() {
        String url = config.url().filter(u -> !u.isBlank()).orElse(null);
        if (url == null) {
            return new MirrorStatus(false, null, false, null, null, null, null);
        }
        MirrorMetrics.Snapshot s = metrics.snapshot();
        return new MirrorStatus(true, MirrorConsumer.withoutCredentials(url), config.transitionStages(), s.lagSeconds(),
                s.mirrored(), s.failures(), s.lastFailure());
    }
}
