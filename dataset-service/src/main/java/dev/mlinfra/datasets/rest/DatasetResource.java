package dev.mlinfra.datasets.rest;

import dev.mlinfra.commons.api.Page;
import dev.mlinfra.commons.api.PageParams;
import dev.mlinfra.commons.identity.CurrentIdentity;
import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.datasets.rest.DatasetViews.DatasetSummary;
import dev.mlinfra.datasets.rest.DatasetViews.DatasetView;
import dev.mlinfra.datasets.rest.DatasetViews.Deleted;
import dev.mlinfra.datasets.service.DatasetService;
import io.smallrye.mutiny.Uni;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.extensions.Extension;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;

/** The contract's Data Management endpoints. */
// defence in depth beside the gateway: reads need the read scope, writes the write scope
@RolesAllowed(Identity.SCOPE_READ)
@Path("/v1/datasets")
@Produces(MediaType.APPLICATION_JSON)
public class DatasetResource {

    private final DatasetService datasets;
    private final CurrentIdentity caller;
    private final String publicUrl;

    public DatasetResource(DatasetService datasets, CurrentIdentity caller,
            @ConfigProperty(name = "mlinfra.public-url", defaultValue = "http://127.0.0.1:8080") String publicUrl) {
        this.datasets = datasets;
        this.caller = caller;
        this.publicUrl = publicUrl;
    }

    @RolesAllowed(Identity.SCOPE_WRITE)
    @POST
    @Path("/upload")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Create a dataset and get the URL to PUT its file to")
    @APIResponse(responseCode = "200")
    @APIResponse(responseCode = "400", description = "Invalid request: the error names the field or parameter")
    @APIResponse(responseCode = "409", description = "A dataset with this name already exists in the team")
    public Uni<DatasetView> create(@Valid @NotNull(message = "is required: a JSON object with name, description, source,"
            + " format and version") NewDatasetRequest body) {
        return datasets.create(caller.team(), body.name(), body.description(), body.source(), body.format(),
                body.version()).map(d -> DatasetViews.full(d, publicUrl));
    }

    @GET
    @Path("/{dataset_id}")
    @Operation(summary = "Get a dataset")
    @APIResponse(responseCode = "200")
    @APIResponse(responseCode = "404", description = "No dataset with this id in the caller's team")
    public Uni<DatasetView> get(@PathParam("dataset_id") String datasetId) {
        return datasets.get(caller.team(), datasetId).map(d -> DatasetViews.full(d, publicUrl));
    }

    @GET
    @Operation(summary = "List datasets, newest first; filter by source (github, gitee) and status (pending, ready, failed)")
    @APIResponse(responseCode = "200")
    @APIResponse(responseCode = "400", description = "Invalid filter, limit or offset")
    @Extension(name = Page.ITEMS, value = "datasets")
    public Uni<Page<DatasetSummary>> list(@QueryParam("source") String source, @QueryParam("status") String status,
            @QueryParam("limit") String limit, @QueryParam("offset") String offset) {
        PageParams page = PageParams.parse(limit, offset);
        return datasets.list(caller.team(), source, status, page)
                .map(p -> Page.of("datasets", p.items().stream().map(DatasetViews::summary).toList(), p.total(), page));
    }

    @RolesAllowed(Identity.SCOPE_WRITE)
    @DELETE
    @Path("/{dataset_id}")
    @Operation(summary = "Delete a dataset and its stored file")
    @APIResponse(responseCode = "200")
    @APIResponse(responseCode = "404", description = "No dataset with this id in the caller's team")
    @APIResponse(responseCode = "409", description = "The dataset is used by an open training job or is receiving its file")
    public Uni<Deleted> delete(@PathParam("dataset_id") String datasetId) {
        return datasets.delete(caller.team(), datasetId)
                .map(deletion -> new Deleted(deletion.dataset().datasetId, "deleted", deletion.objectsRemoved()
                        ? "Dataset deleted successfully"
                        : "Dataset deleted; its stored file is removed once the object store answers again"));
    }
}
