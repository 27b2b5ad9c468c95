package dev.mlinfra.datasets.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.mlinfra.commons.http.ForwardedCaller;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.QueryParam;
import java.util.List;
import org.eclipse.microprofile.rest.client.annotation.RegisterClientHeaders;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

/** training-service's internal API, on behalf of the request being served (its identity travels along). */
@RegisterRestClient(configKey = "training")
@RegisterClientHeaders(ForwardedCaller.class)
@Path("/internal/v1/training/jobs")
public interface TrainingJobsClient {

    /** A queued or running job that trains on the dataset. Fields the peer adds later are ignored. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record JobUse(String jobId, String status) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Uses(List<JobUse> jobs) {
    }

    /** The caller's open jobs that train on the dataset. */
    @GET
    Uni<Uses> usingDataset(@QueryParam("dataset_id") String datasetId);
}
