package dev.mlinfra.registry.client;

import dev.mlinfra.commons.error.ApiException;
import io.smallrye.faulttolerance.api.CircuitBreakerName;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.faulttolerance.CircuitBreaker;
import org.eclipse.microprofile.faulttolerance.Retry;
import org.eclipse.microprofile.faulttolerance.Timeout;
import org.eclipse.microprofile.rest.client.inject.RestClient;
import org.jboss.logging.Logger;

/** training-service's truth about a job, with a timeout, retries and a circuit breaker; a 404 is an answer (null). */
@ApplicationScoped
public class TrainingJobs {

    private static final Logger LOG = Logger.getLogger(TrainingJobs.class);
    private static final int NOT_FOUND = 404;

    private final TrainingJobsClient client;

    public TrainingJobs(@RestClient TrainingJobsClient client) {
        this.client = client;
    }

    /** The caller's job, or null when its team has no job of that id. */
    @Timeout(5000)
    @Retry(maxRetries = 2, delay = 200, abortOn = ApiException.class)
    @CircuitBreaker(requestVolumeThreshold = 10, failureRatio = 0.5, delay = 10000)
    @CircuitBreakerName("training")
    public Uni<TrainingJobsClient.TrainingJob> job(String jobId) {
        return client.job(jobId).map(TrainingJobs::read)
                .onFailure(e -> e instanceof WebApplicationException w && w.getResponse() != null
                        && w.getResponse().getStatus() == NOT_FOUND)
                .recoverWithNull();
    }

    private static TrainingJobsClient.TrainingJob read(Response response) {
        try (response) {
            if (response.getStatus() == NOT_FOUND) {
                return null;
            }
            if (response.getStatus() != Response.Status.OK.getStatusCode()) {
                throw new IllegalStateException("training-service answered " + response.getStatus());
            }
            return response.readEntity(TrainingJobsClient.TrainingJob.class);
        }
    }

    /** The peer could not answer in time: the user may retry. */
    public static ApiException unavailable(String what, Throwable cause) {
        LOG.warnf("%s: %s", what, cause.toString());
        return ApiException.peerUnavailable(what);
    }
}
