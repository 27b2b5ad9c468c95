package dev.mlinfra.datasets.client;

import io.smallrye.faulttolerance.api.CircuitBreakerName;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import org.eclipse.microprofile.faulttolerance.CircuitBreaker;
import org.eclipse.microprofile.faulttolerance.Fallback;
import org.eclipse.microprofile.faulttolerance.Timeout;
import org.eclipse.microprofile.rest.client.inject.RestClient;
import org.jboss.logging.Logger;

/**
 * training-service's own answer to "which of the caller's jobs train on this dataset", for the
 * moment after a job's creation that its event has not reached this service yet. With a timeout and
 * a circuit breaker; when training-service cannot say, the answer is null.
 */
@ApplicationScoped
public class TrainingJobs {

    private static final Logger LOG = Logger.getLogger(TrainingJobs.class);

    private final TrainingJobsClient client;

    public TrainingJobs(@RestClient TrainingJobsClient client) {
        this.client = client;
    }

    /** The caller's queued or running jobs on the dataset, or null when training-service cannot say now. */
    @Timeout(2000)
    @CircuitBreaker(requestVolumeThreshold = 10, failureRatio = 0.5, delay = 10000)
    @CircuitBreakerName("training")
    @Fallback(fallbackMethod = "cannotSay")
    public Uni<List<TrainingJobsClient.JobUse>> using(String datasetId) {
        return client.usingDataset(datasetId).map(uses -> uses.jobs() == null ? List.of() : uses.jobs());
    }

    Uni<List<TrainingJobsClient.JobUse>> cannotSay(String datasetId, Throwable cause) {
        LOG.warnf("training-service could not say which jobs use dataset %s (%s); the jobs known from its events decide",
                datasetId, cause.toString());
        return Uni.createFrom().nullItem();
    }
}
