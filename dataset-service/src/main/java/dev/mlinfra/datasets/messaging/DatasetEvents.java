package dev.mlinfra.datasets.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.commons.outbox.Outbox;
import dev.mlinfra.datasets.Dataset;
import dev.mlinfra.datasets.config.DatasetConfig;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlClient;
import jakarta.enterprise.context.ApplicationScoped;

/** The events of {@code mlinfra.datasets}, staged in the outbox with the change they announce. */
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

    public Uni<Void> ready(SqlClient tx, Dataset d, String objectUri) {
        ObjectNode data = base(d);
        data.put("object_uri", objectUri);
        data.put("size", d.size());
        data.put("num_examples", d.numExamples());
        data.put("checksum_sha256", d.checksumSha256());
        return stage(tx, READY, d, data);
    }

    public Uni<Void> failed(SqlClient tx, Dataset d) {
        ObjectNode data = base(d);
        data.put("reason", d.failureReason());
        data.put("error_count", d.errorCount());
        return stage(tx, FAILED, d, data);
    }

    public Uni<Void> deleted(SqlClient tx, Dataset d) {
        return stage(tx, DELETED, d, base(d));
    }

    private ObjectNode base(Dataset d) {
        ObjectNode data = json.createObjectNode();
        data.put("dataset_id", d.datasetId());
        data.put("version", d.version());
        data.put("format", d.format());
        data.put("source", d.source());
        return data;
    }

    private Uni<Void> stage(SqlClient tx, String type, Dataset d, ObjectNode data) {
        return outbox.stage(tx, topic, EventEnvelope.of(type, SOURCE, d.team(), d.datasetId(), data));
    }
}
