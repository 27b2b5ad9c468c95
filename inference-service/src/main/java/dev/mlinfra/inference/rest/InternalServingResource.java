package dev.mlinfra.inference.rest;

import dev.mlinfra.inference.backend.ServingBackend;
import dev.mlinfra.inference.rest.DeploymentViews.ServerView;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;

/** For the platform's status pages (service to service, not through the gateway): the serving backend's servers. */
@Path("/internal/v1/inference/servers")
@Produces(MediaType.APPLICATION_JSON)
public class InternalServingResource {

    private final ServingBackend backend;

    public InternalServingResource(ServingBackend backend) {
        this.backend = backend;
    }

    /** The backend and its servers. */
    public record Servers(String backend, List<ServerView> servers) {
    }

    @GET
    @Operation(summary = "The serving backend and its servers: model type, URL, state, pid, restarts, last exit")
    public Servers servers() {
        return new Servers(backend.name(), backend.servers().stream().map(ServerView::of).toList());
    }
}
