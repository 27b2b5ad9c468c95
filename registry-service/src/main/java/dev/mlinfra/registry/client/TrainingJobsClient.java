package dev.mlinfra.registry.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.mlinfra.commons.http.ForwardedCaller;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import org.eclipse.microprofile.rest.client.annotation.RegisterClientHeaders;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

/** training-service's internal API, on behalf of the request being served (its identity travels along). */
@RegisterRestClient(configKey = "training")
@RegisterClientHeaders(ForwardedCaller.class)
@Path("/internal/v1/training/jobs")
public interface TrainingJobsClient {

    /** Where a job's results are. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Artifacts(String output, String adapter, String model, String metrics) {
    }

    /** What registering a job's result needs. Fields the peer adds later are ignored. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record TrainingJob(String jobId, String status, String modelType, String datasetId, Map<String, Object> metrics,
            Artifacts artifacts) {
    }

    @GET
    @Path("/{job_id}")
    Uni<Response> job(@PathParam("job_id") String jobId);
}
