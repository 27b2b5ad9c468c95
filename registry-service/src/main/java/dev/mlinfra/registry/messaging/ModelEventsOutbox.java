package dev.mlinfra.registry.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.commons.events.ModelEvents;
import dev.mlinfra.commons.outbox.Outbox;
import dev.mlinfra.registry.Model;
import dev.mlinfra.registry.ModelVersion;
import dev.mlinfra.registry.Stage;
import dev.mlinfra.registry.config.RegistryConfig;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.List;

/**
 * The events of {@code mlinfra.models} ({@link ModelEvents}), staged in the outbox: call inside the
 * transaction of the change they announce.
 */
@ApplicationScoped
public class ModelEventsOutbox {

    static final String SOURCE = "registry-service";

    private final Outbox outbox;
    private final ObjectMapper json;
    private final String topic;

    public ModelEventsOutbox(Outbox outbox, ObjectMapper json, RegistryConfig config) {
        this.outbox = outbox;
        this.json = json;
        this.topic = config.topic();
    }

    public Uni<Void> registered(Model model, ModelVersion v) {
        return stage(ModelEvents.REGISTERED, model, new ModelEvents.Registered(model.modelId, model.modelType, v.version,
                v.stage.value(), v.trainingJobId, v.artifact, v.metrics, v.reportedMetrics, model.description, v.createdAt));
    }

    public Uni<Void> stageChanged(Model model, ModelVersion v, Stage from, String changedBy, Instant at) {
        return stage(ModelEvents.STAGE_CHANGED, model, new ModelEvents.StageChanged(model.modelId, model.modelType, v.version,
                from.value(), v.stage.value(), v.artifact, v.trainingJobId, changedBy, at));
    }

    public Uni<Void> deleted(Model model, List<String> versions) {
        return stage(ModelEvents.DELETED, model, new ModelEvents.Deleted(model.modelId, model.modelType, versions));
    }

    private Uni<Void> stage(String type, Model model, Object data) {
        return outbox.stage(topic, EventEnvelope.of(type, SOURCE, model.team, model.modelId, json.valueToTree(data)));
    }
}
