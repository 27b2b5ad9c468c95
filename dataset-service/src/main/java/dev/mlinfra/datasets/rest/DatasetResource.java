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
    public Uni<DatasetView> create(@Valid @NotNull(message = "is required: a JSON object with name, description, source,"
            + " format and version") NewDatasetRequest body) {
        return datasets.create(caller.team(), body.name(), body.description(), body.source(), body.format(),
                body.version()).map(d -> DatasetViews.full(d, publicUrl));
    }

    @GET
    @Path("/{dataset_id}")
    @Operation(summary = "Get a dataset")
    public Uni<DatasetView> get(@PathParam("dataset_id") String datasetId) {
        return datasets.get(caller.team(), datasetId).map(d -> DatasetViews.full(d, publicUrl));
    }

    @GET
    @Operation(summary = "List datasets, newest first; filter by source (github, gitee) and status (pending, ready, failed)")
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
    public Uni<Deleted> delete(@PathParam("dataset_id") String datasetId) {
        return datasets.delete(caller.team(), datasetId)
                .map(d -> new Deleted(d.datasetId, "deleted", "Dataset deleted successfully"));
    }
}
