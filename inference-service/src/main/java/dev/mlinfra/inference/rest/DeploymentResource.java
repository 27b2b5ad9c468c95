package dev.mlinfra.inference.rest;

import dev.mlinfra.commons.api.Page;
import dev.mlinfra.commons.api.PageParams;
import dev.mlinfra.commons.error.ApiException;
import dev.mlinfra.commons.http.RequestIds;
import dev.mlinfra.commons.identity.CurrentIdentity;
import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.commons.identity.IdentityTokens;
import dev.mlinfra.commons.persistence.TextEnum;
import dev.mlinfra.inference.DeploymentState;
import dev.mlinfra.inference.ServableVersion;
import dev.mlinfra.inference.client.Registry;
import dev.mlinfra.inference.rest.DeploymentViews.DeploymentView;
import dev.mlinfra.inference.service.Caller;
import dev.mlinfra.inference.service.DeploymentService;
import io.smallrye.mutiny.Uni;
import io.vertx.ext.web.RoutingContext;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.extensions.Extension;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;

/** The team's deployments: which version of each model serves, and how far it is (beyond the contract). */
@Path("/v1/deployments")
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed(Identity.SCOPE_READ)
public class DeploymentResource {

    private final DeploymentService deployments;
    private final Registry registry;
    private final CurrentIdentity caller;

    public DeploymentResource(DeploymentService deployments, Registry registry, CurrentIdentity caller) {
        this.deployments = deployments;
        this.registry = registry;
        this.caller = caller;
    }

    @GET
    @Operation(summary = "List the team's deployments, most recently changed first; filter by state and model_type")
    @APIResponse(responseCode = "200")
    @APIResponse(responseCode = "400", description = "Invalid filter, limit or offset")
    @Extension(name = Page.ITEMS, value = "deployments")
    public Uni<Page<DeploymentView>> list(@QueryParam("state") String state, @QueryParam("model_type") String modelType,
            @QueryParam("limit") String limit, @QueryParam("offset") String offset) {
        PageParams page = PageParams.parse(limit, offset);
        DeploymentState wanted = state == null ? null : TextEnum.parse("query parameter 'state'", state, DeploymentState.ALL);
        if (modelType != null && !deployments.config().modelTypes().contains(modelType)) {
            throw ApiException.badRequest("Invalid query parameter 'model_type': expected one of "
                    + String.join(", ", deployments.config().modelTypes()) + ", got '" + modelType + "'");
        }
        return deployments.list(caller.team(), wanted, modelType, page)
                .map(t -> Page.of("deployments", t.getItem1().stream().map(DeploymentViews::of).toList(), t.getItem2(), page));
    }

    @GET
    @Path("/{model_id}")
    @Operation(summary = "A model's deployment: its serving version, state and, when it failed, why")
    @APIResponse(responseCode = "200")
    @APIResponse(responseCode = "404", description = "No deployment of this model in the caller's team")
    public Uni<DeploymentView> get(@PathParam("model_id") String modelId, @Context RoutingContext request) {
        return deployments.find(caller.team(), modelId).flatMap(d -> d != null ? Uni.createFrom().item(DeploymentViews.of(d))
                // none here: the registry's event may still be on its way, so the registry says whether the model exists
                : registry.model(new Caller(caller.team(), request.request().getHeader(IdentityTokens.HEADER),
                        request.get(RequestIds.KEY)), modelId).map(shown -> {
                            if (shown != null && !ServableVersion.ARCHIVED.equals(shown.stage())) {
                                throw ApiException.notFound("Model '" + modelId + "' version " + shown.version() + " ("
                                        + shown.stage() + ") was registered or changed moments ago and has no deployment yet;"
                                        + " it gets one within seconds");
                            }
                            throw ApiException.notFound("Model '" + modelId + "' has no deployment: no model of that id is"
                                    + " registered for your team" + (shown == null ? "" : " in a stage that serves"));
                        }));
    }
}
