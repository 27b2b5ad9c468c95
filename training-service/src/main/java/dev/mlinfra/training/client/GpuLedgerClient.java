package dev.mlinfra.training.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.mlinfra.commons.http.ForwardedCaller;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.rest.client.annotation.RegisterClientHeaders;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

/** The GPU ledger's internal API in infra-service: where a job's request for capacity stands. */
@RegisterRestClient(configKey = "gpu-ledger")
@RegisterClientHeaders(ForwardedCaller.class)
@Path("/internal/v1/gpu")
public interface GpuLedgerClient {

    @JsonIgnoreProperties(ignoreUnknown = true)
    record RequestState(String requestId, String status, String pool, Integer queuePosition) {
    }

    @GET
    @Path("/requests/{request_id}")
    Uni<Response> request(@PathParam("request_id") String requestId, @QueryParam("requester") String requester);
}
