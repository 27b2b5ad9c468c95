package dev.mlinfra.datasets.rest;

import dev.mlinfra.commons.identity.CurrentIdentity;
import dev.mlinfra.commons.storage.ObjectStore;
import dev.mlinfra.datasets.rest.DatasetViews.Resolved;
import dev.mlinfra.datasets.service.DatasetReferences;
import dev.mlinfra.datasets.service.DatasetService;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * For other services (training): where a dataset of the caller's team is and whether it is
 * usable. The gateway does not route /internal, so users cannot reach it; callers forward the
 * identity token of the request they are serving.
 */
@Path("/internal/v1/datasets")
@Produces(MediaType.APPLICATION_JSON)
public class InternalDatasetResource {

    private final DatasetService datasets;
    private final CurrentIdentity caller;
    private final ObjectStore store;
    private final DatasetReferences references;

    public InternalDatasetResource(DatasetService datasets, CurrentIdentity caller, ObjectStore store,
            DatasetReferences references) {
        this.datasets = datasets;
        this.caller = caller;
        this.store = store;
        this.references = references;
    }

    @GET
    @Path("/{dataset_id}")
    @Operation(summary = "Resolve a dataset of the caller's team: status, object location, checksum, size, the open jobs that use it")
    public Uni<Resolved> resolve(@PathParam("dataset_id") String datasetId) {
        return datasets.get(caller.team(), datasetId).flatMap(d -> references.openJobs(d.team, d.datasetId)
                .map(jobs -> new Resolved(d.datasetId, d.team, d.status, d.format, d.version,
                        d.objectKey == null ? null : store.uri(d.objectKey), d.checksumSha256, d.numExamples, d.size, jobs)));
    }
}
