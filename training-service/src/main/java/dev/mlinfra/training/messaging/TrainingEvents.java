package dev.mlinfra.training.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.commons.events.GpuCapacity;
import dev.mlinfra.commons.outbox.Outbox;
import dev.mlinfra.training.TrainingJob;
import dev.mlinfra.training.config.TrainingConfig;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * What training-service publishes, staged in the outbox with the change it announces (call inside
 * that transaction): the job's transitions on {@code mlinfra.training} ({@code training.job.<event>})
 * and its requests and releases of GPU capacity on {@code mlinfra.gpu}.
 */
@ApplicationScoped
public class TrainingEvents {

    public static final String SOURCE = "training-service";
    static final String PREFIX = "training.job.";

    private final Outbox outbox;
    private final ObjectMapper json;
    private final TrainingConfig config;

    public TrainingEvents(Outbox outbox, ObjectMapper json, TrainingConfig config) {
        this.outbox = outbox;
        this.json = json;
        this.config = config;
    }

    /** {@code training.job.<event>} with the job's state: queued, started, progress, checkpoint, cancelling, completed, failed, cancelled. */
    public Uni<Void> job(String event, TrainingJob job, ObjectNode extra) {
        ObjectNode data = json.createObjectNode();
        data.put("job_id", job.jobId);
        data.put("status", job.status.value());
        data.put("model_type", job.modelType);
        data.put("dataset_id", job.datasetId);
        if (job.experimentName != null) {
            data.put("experiment_name", job.experimentName);
        }
        if (job.progress != null) {
            data.set("progress", json.valueToTree(job.progress));
        }
        if (job.metrics != null) {
            data.set("metrics", json.valueToTree(job.metrics));
        }
        if (job.artifacts != null) {
            data.set("artifacts", json.valueToTree(job.artifacts));
        }
        if (job.error != null) {
            data.put("error", job.error);
        }
        if (extra != null) {
            data.setAll(extra);
        }
        return outbox.stage(config.topic(), EventEnvelope.of(PREFIX + event, SOURCE, job.team, job.jobId, data));
    }

    /** Asks the ledger for the capacity the job's model type needs. */
    public Uni<Void> requestCapacity(TrainingJob job) {
        return gpu(GpuCapacity.REQUESTED, job, new GpuCapacity.Requested(job.jobId, SOURCE, job.team, job.modelType));
    }

    /** Gives the job's capacity back (or takes it out of the queue): on every terminal state. */
    public Uni<Void> releaseCapacity(TrainingJob job, String reason) {
        return gpu(GpuCapacity.RELEASED, job, new GpuCapacity.Released(job.jobId, SOURCE, job.team, reason));
    }

    private Uni<Void> gpu(String type, TrainingJob job, Object data) {
        return outbox.stage(config.gpuTopic(), EventEnvelope.of(type, SOURCE, job.team, job.jobId, json.valueToTree(data)));
    }
}
