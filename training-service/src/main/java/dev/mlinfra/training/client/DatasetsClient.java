package dev.mlinfra.training.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.mlinfra.commons.http.ForwardedCaller;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.rest.client.annotation.RegisterClientHeaders;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

/** dataset-service's internal API, on behalf of the request being served (its identity travels along). */
@RegisterRestClient(configKey = "datasets")
@RegisterClientHeaders(ForwardedCaller.class)
@Path("/internal/v1/datasets")
public interface DatasetsClient {

    /** What a training job needs to know of a dataset. Fields the peer adds later are ignored. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record DatasetInfo(String datasetId, String status, String format, String objectUri, String checksumSha256,
            Long numExamples) {
    }

    /** The raw answer: 200 with the dataset, or 404 when the caller's team has no such dataset. */
    @GET
    @Path("/{dataset_id}")
    Uni<Response> resolve(@PathParam("dataset_id") String datasetId);
}
