package dev.mlinfra.registry.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.api.Page;
import dev.mlinfra.commons.api.PageParams;
import dev.mlinfra.commons.http.IdempotencyKeys;
import dev.mlinfra.commons.identity.CurrentIdentity;
import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.commons.persistence.TextEnum;
import dev.mlinfra.registry.Stage;
import dev.mlinfra.registry.rest.ModelViews.Deleted;
import dev.mlinfra.registry.rest.ModelViews.ModelSummary;
import dev.mlinfra.registry.rest.ModelViews.ModelView;
import dev.mlinfra.registry.rest.ModelViews.StageChangeView;
import dev.mlinfra.registry.rest.ModelViews.VersionView;
import dev.mlinfra.registry.service.RegistryService;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.extensions.Extension;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;

/** The contract's Model Management endpoints, and "Get Model Information" and "List Models" of its Inference section. */
@Path("/v1/models")
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed(Identity.SCOPE_READ)
public class ModelResource {

    private final RegistryService registry;
    private final CurrentIdentity caller;
    private final ObjectMapper json;

    public ModelResource(RegistryService registry, CurrentIdentity caller, ObjectMapper json) {
        this.registry = registry;
        this.caller = caller;
        this.json = json;
    }

    @POST
    @RolesAllowed(Identity.SCOPE_WRITE)
    @Path("/register")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Register a completed training job as the next version of a model (the registry numbers versions)")
    @APIResponse(responseCode = "200")
    @APIResponse(responseCode = "400", description = "Invalid request: the error names the field or parameter")
    @APIResponse(responseCode = "404", description = "No training job with this id in the caller's team")
    @APIResponse(responseCode = "409", description = "The training job has not completed, has no artifacts or is registered"
            + " already, or the Idempotency-Key was used for another registration")
    public Uni<ModelView> register(@Valid @NotNull(message = "is required: a JSON object with model_id, model_type and"
            + " training_job_id") ModelRequests.Register body,
            @Parameter(description = IdempotencyKeys.DESCRIPTION) @HeaderParam(IdempotencyKeys.HEADER) String idempotencyKeyParam,
            @Context HttpHeaders headers) {
        String idempotencyKey = IdempotencyKeys.of(headers);
        Stage stage = body.stage() == null ? Stage.NONE : TextEnum.parse("field 'stage'", body.stage(), Stage.ALL);
        Map<String, Object> reported = body.metrics() == null ? Map.of() : new LinkedHashMap<>(body.metrics());
        return registry.register(caller.get(), new RegistryService.Registration(body.modelId(), body.modelType(),
                body.description(), body.trainingJobId(), reported, stage, idempotencyKey,
                idempotencyKey == null ? null : IdempotencyKeys.fingerprint(json, body))).map(ModelViews::of);
    }

    @GET
    @Path("/{model_id}")
    @Operation(summary = "Get a model as its current version speaks for it (production, else the newest not archived)")
    @APIResponse(responseCode = "200")
    @APIResponse(responseCode = "404", description = "No model with this id in the caller's team")
    public Uni<ModelView> get(@PathParam("model_id") String modelId) {
        return registry.get(caller.team(), modelId).map(ModelViews::of);
    }

    @GET
    @Operation(summary = "List models, newest first; filter by model_type, status (active, inactive) and stage")
    @APIResponse(responseCode = "200")
    @APIResponse(responseCode = "400", description = "Invalid filter, limit or offset")
    @Extension(name = Page.ITEMS, value = "models")
    public Uni<Page<ModelSummary>> list(@QueryParam("model_type") String modelType, @QueryParam("status") String status,
            @QueryParam("stage") String stage, @QueryParam("limit") String limit, @QueryParam("offset") String offset) {
        PageParams page = PageParams.parse(limit, offset);
        return registry.list(caller.team(), modelType, status, stage, page)
                .map(p -> Page.of("models", p.items().stream().map(ModelViews::summary).toList(), p.total(), page));
    }

    @GET
    @Path("/{model_id}/versions")
    @Operation(summary = "Every version of a model, newest first")
    @APIResponse(responseCode = "200")
    @APIResponse(responseCode = "404", description = "No model with this id in the caller's team")
    public Uni<Map<String, List<VersionView>>> versions(@PathParam("model_id") String modelId) {
        return registry.versions(caller.team(), modelId)
                .map(all -> Map.of("versions", all.stream().map(ModelViews::version).toList()));
    }

    @POST
    @RolesAllowed(Identity.SCOPE_WRITE)
    @Path("/{model_id}/stage")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Move a version (the newest by default) to a stage; a new production version archives the one before")
    @APIResponse(responseCode = "200")
    @APIResponse(responseCode = "400", description = "Invalid request: the error names the field or parameter")
    @APIResponse(responseCode = "404", description = "No model (or version) with this id in the caller's team")
    @APIResponse(responseCode = "409", description = "The version cannot move to this stage")
    public Uni<ModelView> stage(@PathParam("model_id") String modelId, @Valid @NotNull(message = "is required: a JSON object"
            + " with stage") ModelRequests.ChangeStage body) {
        Stage stage = TextEnum.parse("field 'stage'", body.stage(), Stage.ALL);
        return registry.changeStage(caller.get(), modelId, stage, body.version()).map(ModelViews::of);
    }

    @GET
    @Path("/{model_id}/history")
    @Operation(summary = "Every stage change of a model's versions, newest first, with who made it and when")
    @APIResponse(responseCode = "200")
    @APIResponse(responseCode = "400", description = "Invalid limit or offset")
    @APIResponse(responseCode = "404", description = "No model with this id in the caller's team")
    @Extension(name = Page.ITEMS, value = "history")
    public Uni<Page<StageChangeView>> history(@PathParam("model_id") String modelId, @QueryParam("limit") String limit,
            @QueryParam("offset") String offset) {
        PageParams page = PageParams.parse(limit, offset);
        return registry.history(caller.team(), modelId, page)
                .map(p -> Page.of("history", p.items().stream().map(ModelViews::change).toList(), p.total(), page));
    }

    @DELETE
    @RolesAllowed(Identity.SCOPE_WRITE)
    @Path("/{model_id}")
    @Operation(summary = "Delete a model and its versions from the registry; one in production needs ?force=true")
    @APIResponse(responseCode = "200")
    @APIResponse(responseCode = "404", description = "No model with this id in the caller's team")
    @APIResponse(responseCode = "409", description = "A version is in production; delete with force=true")
    public Uni<Deleted> delete(@PathParam("model_id") String modelId, @QueryParam("force") String force) {
        boolean forced = parseForce(force);
        return registry.delete(caller.get(), modelId, forced)
                .map(m -> new Deleted(m.modelId, "deleted", "Model deleted successfully; the training jobs' artifacts stay"));
    }

    private static boolean parseForce(String value) {
        if (value == null || value.equals("false")) {
            return false;
        }
        if (value.equals("true")) {
            return true;
        }
        throw dev.mlinfra.commons.error.ApiException.badRequest("Invalid query parameter 'force': expected true or false, got '"
                + value + "'");
    }
}
