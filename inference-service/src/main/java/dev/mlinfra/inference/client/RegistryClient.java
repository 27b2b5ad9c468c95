package dev.mlinfra.inference.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.mlinfra.commons.http.RequestIds;
import dev.mlinfra.commons.identity.IdentityTokens;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

/**
 * registry-service's answer about one of the caller's models. The caller's identity token and
 * request id are passed as arguments: the inference routes are Vert.x routes, outside the request
 * scope from which {@code ForwardedCaller} reads them.
 */
@RegisterRestClient(configKey = "registry")
@Path("/v1/models")
public interface RegistryClient {

    /** A model as the registry shows it now. Fields the peer adds later are ignored. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record RegisteredModel(String modelId, String modelType, String version, String stage) {
    }

    /** 200 with the model; 404 (an exception) when the caller's team has none of that id. */
    @GET
    @Path("/{model_id}")
    Uni<RegisteredModel> model(@PathParam("model_id") String modelId, @HeaderParam(IdentityTokens.HEADER) String token,
            @HeaderParam(RequestIds.HEADER) String requestId);
}
