package dev.mlinfra.training.rest;

import dev.mlinfra.commons.error.ApiException;
import dev.mlinfra.commons.identity.CurrentIdentity;
import dev.mlinfra.training.JobStatus;
import dev.mlinfra.training.service.TrainingJobService;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * For other services: a job of the caller's team (registry-service registers completed ones as
 * model versions), and the caller's open jobs that train on a dataset (dataset-service refuses to
 * delete it meanwhile). The gateway does not route /internal.
 */
@Path("/internal/v1/training/jobs")
@Produces(MediaType.APPLICATION_JSON)
public class InternalTrainingResource {

    public record JobUse(String jobId, JobStatus status) {
    }

    public record Uses(List<JobUse> jobs) {
    }

    private final TrainingJobService jobs;
    private final CurrentIdentity caller;

    public InternalTrainingResource(TrainingJobService jobs, CurrentIdentity caller) {
        this.jobs = jobs;
        this.caller = caller;
    }

    @GET
    @Path("/{job_id}")
    @Operation(summary = "A job of the caller's team as its owner sees it (status, model type, metrics, artifacts)")
    public Uni<JobViews.JobView> job(@PathParam("job_id") String jobId) {
        return jobs.get(caller.team(), jobId).map(j -> JobViews.full(j, null));
    }

    @GET
    @Operation(summary = "The caller's queued or running jobs that train on a dataset")
    public Uni<Uses> usingDataset(@QueryParam("dataset_id") String datasetId) {
        if (datasetId == null || datasetId.isBlank()) {
            throw ApiException.badRequest("Missing query parameter 'dataset_id'");
        }
        return jobs.usingDataset(caller.team(), datasetId)
                .map(list -> new Uses(list.stream().map(j -> new JobUse(j.jobId, j.status)).toList()));
    }
}
