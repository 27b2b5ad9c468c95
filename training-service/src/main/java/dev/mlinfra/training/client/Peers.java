package dev.mlinfra.training.client;

import dev.mlinfra.commons.error.ApiException;
import io.smallrye.faulttolerance.api.CircuitBreakerName;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.faulttolerance.CircuitBreaker;
import org.eclipse.microprofile.faulttolerance.Fallback;
import org.eclipse.microprofile.faulttolerance.Retry;
import org.eclipse.microprofile.faulttolerance.Timeout;
import org.eclipse.microprofile.rest.client.inject.RestClient;
import org.jboss.logging.Logger;

/**
 * The other services' truth that a request needs now, with timeouts, retries and circuit
 * breakers. A 404 from a peer is an answer (null), not a failure.
 */
@ApplicationScoped
public class Peers {

    private static final Logger LOG = Logger.getLogger(Peers.class);
    private static final int NOT_FOUND = 404;
    /** Who asks the ledger for capacity (the ledger keys requests by requester and id). */
    private static final String REQUESTER = "training-service";

    private final DatasetsClient datasets;
    private final GpuLedgerClient ledger;

    public Peers(@RestClient DatasetsClient datasets, @RestClient GpuLedgerClient ledger) {
        this.datasets = datasets;
        this.ledger = ledger;
    }

    /** The caller's dataset, or null when its team has none of that id. */
    @Timeout(5000)
    @Retry(maxRetries = 2, delay = 200, abortOn = ApiException.class)
    @CircuitBreaker(requestVolumeThreshold = 10, failureRatio = 0.5, delay = 10000)
    @CircuitBreakerName("datasets")
    public Uni<DatasetsClient.DatasetInfo> dataset(String datasetId) {
        return datasets.resolve(datasetId).map(r -> read(r, DatasetsClient.DatasetInfo.class, "dataset-service"))
                .onFailure(Peers::notFound).recoverWithNull();
    }

    /** Where the job's capacity request stands in the ledger; null when unknown or the ledger cannot say now. */
    @Timeout(2000)
    @CircuitBreaker(requestVolumeThreshold = 10, failureRatio = 0.5, delay = 10000)
    @CircuitBreakerName("gpu-ledger")
    @Fallback(fallbackMethod = "unknownPosition")
    public Uni<GpuLedgerClient.RequestState> capacityRequest(String jobId) {
        return ledger.request(jobId, REQUESTER).map(r -> read(r, GpuLedgerClient.RequestState.class, "infra-service"))
                .onFailure(Peers::notFound).recoverWithNull();
    }

    Uni<GpuLedgerClient.RequestState> unknownPosition(String jobId) {
        LOG.debugf("The GPU ledger could not say where %s stands", jobId);
        return Uni.createFrom().nullItem();
    }

    /** The client turns error statuses into exceptions; a 404 is the peer's answer "no such thing". */
    private static boolean notFound(Throwable e) {
        return e instanceof WebApplicationException w && w.getResponse() != null && w.getResponse().getStatus() == NOT_FOUND;
    }

    private static <T> T read(Response response, Class<T> type, String peer) {
        try (response) {
            if (response.getStatus() == NOT_FOUND) {
                return null;
            }
            if (response.getStatus() != Response.Status.OK.getStatusCode()) {
                throw new IllegalStateException(peer + " answered " + response.getStatus());
            }
            return response.readEntity(type);
        }
    }

    /** The peer could not answer in time: the user may retry. */
    public static ApiException unavailable(String what, Throwable cause) {
        LOG.warnf("%s: %s", what, cause.toString());
        return ApiException.peerUnavailable(what);
    }
}
