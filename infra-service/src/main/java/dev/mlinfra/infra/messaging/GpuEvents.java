package dev.mlinfra.infra.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.commons.events.GpuCapacity;
import dev.mlinfra.commons.outbox.Outbox;
import dev.mlinfra.infra.GpuRequest;
import dev.mlinfra.infra.config.GpuConfig;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The ledger's answers on {@code mlinfra.gpu}, staged in the outbox: call them inside the
 * transaction that records the decision, so the decision and its event commit together.
 */
@ApplicationScoped
public class GpuEvents {

    public static final String SOURCE = "infra-service";

    private final Outbox outbox;
    private final ObjectMapper json;
    private final String topic;

    public GpuEvents(Outbox outbox, ObjectMapper json, GpuConfig config) {
        this.outbox = outbox;
        this.json = json;
        this.topic = config.topic();
    }

    public Uni<Void> granted(GpuRequest r) {
        return stage(GpuCapacity.GRANTED, r,
                new GpuCapacity.Granted(r.requestId, r.requester, r.team, r.modelType, r.pool, r.gpus));
    }

    public Uni<Void> denied(GpuRequest r) {
        return stage(GpuCapacity.DENIED, r, new GpuCapacity.Denied(r.requestId, r.requester, r.team, r.reason));
    }

    private Uni<Void> stage(String type, GpuRequest r, Object data) {
        return outbox.stage(topic, EventEnvelope.of(type, SOURCE, r.team, r.requestId, json.valueToTree(data)));
    }
}
