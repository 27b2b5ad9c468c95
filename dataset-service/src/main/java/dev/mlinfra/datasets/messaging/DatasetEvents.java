package dev.mlinfra.datasets.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.commons.outbox.Outbox;
import dev.mlinfra.datasets.Dataset;
import dev.mlinfra.datasets.config.DatasetConfig;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The events of {@code mlinfra.datasets}, staged in the outbox: call them inside the transaction
 * of the change they announce.
 */
@ApplicationScoped
public class DatasetEvents {

    public static final String READY = "dataset.ready";
    public static final String FAILED = "dataset.failed";
    public static final String DELETED = "dataset.deleted";
    static final String SOURCE = "dataset-service";

    private final Outbox outbox;
    private final ObjectMapper json;
    private final String topic;

    public DatasetEvents(Outbox outbox, ObjectMapper json, DatasetConfig config) {
        this.outbox = outbox;
        this.json = json;
        this.topic = config.topic();
    }

    public Uni<Void> ready(Dataset d, String objectUri) {
        ObjectNode data = base(d);
        data.put("object_uri", objectUri);
        data.put("size", d.size);
        data.put("num_examples", d.numExamples);
        data.put("checksum_sha256", d.checksumSha256);
        return stage(READY, d, data);
    }

    public Uni<Void> failed(Dataset d) {
        ObjectNode data = base(d);
        data.put("reason", d.failure.reason());
        data.put("error_count", d.failure.errorCount());
        return stage(FAILED, d, data);
    }

    public Uni<Void> deleted(Dataset d) {
        return stage(DELETED, d, base(d));
    }

    private ObjectNode base(Dataset d) {
        ObjectNode data = json.createObjectNode();
        data.put("dataset_id", d.datasetId);
        data.put("version", d.version);
        data.put("format", d.format);
        data.put("source", d.source);
        return data;
    }

    private Uni<Void> stage(String type, Dataset d, ObjectNode data) {
        return outbox.stage(topic, EventEnvelope.of(type, SOURCE, d.team, d.datasetId, data));
    }
}
