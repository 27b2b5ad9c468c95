package dev.mlinfra.commons.events;

/**
 * The events of {@code mlinfra.gpu}, by which jobs and deployments get GPU capacity from the
 * ledger that infra-service keeps. A requester (training-service, inference-service) publishes
 * {@code gpu.requested} when work needs capacity and {@code gpu.released} on every terminal state
 * of that work (also when it never got a grant: it then leaves the queue); the ledger answers
 * {@code gpu.granted} in FIFO order per pool, or {@code gpu.denied} for a request no pool can ever
 * satisfy. The event's subject (and Kafka key) is the request id, so the events of one request
 * stay ordered; the data records below are the {@code data} of the envelope.
 */
public final class GpuCapacity {

    /** Default topic; services read it from configuration. */
    public static final String TOPIC = "mlinfra.gpu";
    public static final String REQUESTED = "gpu.requested";
    public static final String GRANTED = "gpu.granted";
    public static final String RELEASED = "gpu.released";
    public static final String DENIED = "gpu.denied";

    private GpuCapacity() {
    }

    /**
     * @param requestId the work's id (a training job id, a deployment id); unique per requester
     * @param requester the service that asks, and that the grant is for ({@code training-service}, ...)
     * @param team      the team the work belongs to (for per-team quotas)
     * @param modelType the base model the work runs ({@code scout}, {@code maverick}); the ledger's
     *                  configuration says how many GPUs of which pool it needs
     */
    public record Requested(String requestId, String requester, String team, String modelType) {
    }

    /** Capacity is the requester's until it publishes {@link Released}. */
    public record Granted(String requestId, String requester, String team, String modelType, String pool, int gpus) {
    }

    /** The work ended (or left the queue); its capacity, if granted, goes to the next request. */
    public record Released(String requestId, String requester, String team, String reason) {
    }

    /** The request can never be granted (no pool serves the model type, or it needs more GPUs than the pool has). */
    public record Denied(String requestId, String requester, String team, String reason) {
    }
}
