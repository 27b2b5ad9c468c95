package dev.mlinfra.inference.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.commons.outbox.Outbox;
import dev.mlinfra.inference.Deployment;
import dev.mlinfra.inference.config.InferenceConfig;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;

/**
 * The events of {@code mlinfra.serving}, staged in the outbox inside the transaction of the
 * change they announce: a model's version is ready to serve, failed to deploy, or nothing of the
 * model serves any more. The envelope's team is the model's, its subject (and Kafka key) the model id.
 */
@ApplicationScoped
public class ServingEvents {

    public static final String SOURCE = "inference-service";
    public static final String READY = "deployment.ready";
    public static final String FAILED = "deployment.failed";
    public static final String REMOVED = "deployment.removed";

    /**
     * What every serving event says.
     *
     * @param version    the serving version; for removed, the one that served before (may be null)
     * @param servedName the adapter's name on the backend
     * @param reason     why it failed or was removed
     */
    public record Deployed(String modelId, String modelType, String version, String stage, String backend,
            String servedName, String reason, Instant at) {
    }

    private final Outbox outbox;
    private final ObjectMapper json;
    private final String topic;

    public ServingEvents(Outbox outbox, ObjectMapper json, InferenceConfig config) {
        this.outbox = outbox;
        this.json = json;
        this.topic = config.servingTopic();
    }

    public Uni<Void> ready(Deployment d) {
        return stage(READY, d, d.version, d.servedName, null);
    }

    public Uni<Void> failed(Deployment d) {
        return stage(FAILED, d, d.version, d.servedName, d.reason);
    }

    public Uni<Void> removed(Deployment d, String lastVersion, String lastServedName, String reason) {
        return stage(REMOVED, d, lastVersion, lastServedName, reason);
    }

    private Uni<Void> stage(String type, Deployment d, String version, String servedName, String reason) {
        Deployed data = new Deployed(d.modelId, d.modelType, version, d.stage, d.backend, servedName, reason, d.updatedAt);
        return outbox.stage(topic, EventEnvelope.of(type, SOURCE, d.team, d.modelId, json.valueToTree(data)));
    }
}
