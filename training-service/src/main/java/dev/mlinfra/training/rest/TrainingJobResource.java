package dev.mlinfra.training.rest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.api.Page;
import dev.mlinfra.commons.api.PageParams;
import dev.mlinfra.commons.error.ApiException;
import dev.mlinfra.commons.error.ErrorMappers;
import dev.mlinfra.commons.http.IdempotencyKeys;
import dev.mlinfra.commons.identity.CurrentIdentity;
import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.training.rest.JobViews.Cancelled;
import dev.mlinfra.training.rest.JobViews.CheckpointView;
import dev.mlinfra.training.rest.JobViews.EventView;
import dev.mlinfra.training.rest.JobViews.JobSummary;
import dev.mlinfra.training.rest.JobViews.JobView;
import dev.mlinfra.training.service.JobEventStream;
import dev.mlinfra.training.service.TrainingJobService;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
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
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.extensions.Extension;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;

/** The contract's Training endpoints, and a job's history and checkpoints. */
// defence in depth beside the gateway: reads need the read scope, writes the write scope
@RolesAllowed(Identity.SCOPE_READ)
@Path("/v1/training/jobs")
@Produces(MediaType.APPLICATION_JSON)
public class TrainingJobResource {

    /** Empty reads between two keep-alive comments of a stream (at 0.5 s a read: 15 s). */
    private static final int KEEP_ALIVE_EVERY = 30;

    private final TrainingJobService jobs;
    private final JobEventStream stream;
    private final CurrentIdentity caller;
    private final ObjectMapper json;

    public TrainingJobResource(TrainingJobService jobs, JobEventStream stream, CurrentIdentity caller, ObjectMapper json) {
        this.jobs = jobs;
        this.stream = stream;
        this.caller = caller;
        this.json = json;
    }

    @RolesAllowed(Identity.SCOPE_WRITE)
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Start a training job on a ready dataset; with Idempotency-Key a retry returns the same job")
    @APIResponse(responseCode = "200")
    @APIResponse(responseCode = "400", description = "Invalid request: the error names the field or parameter")
    @APIResponse(responseCode = "404", description = "No dataset with this id in the caller's team")
    @APIResponse(responseCode = "409", description = "The dataset is not ready, or the Idempotency-Key was used for another request")
    public Uni<JobView> create(@Valid @NotNull(message = "is required: a JSON object with model_type, dataset_id and, optionally, config")
            NewJobRequest body,
            @Parameter(description = IdempotencyKeys.DESCRIPTION)
            @HeaderParam(IdempotencyKeys.HEADER) String idempotencyKeyParam, @Context HttpHeaders headers) {
        String idempotencyKey = IdempotencyKeys.of(headers);
        @SuppressWarnings("unchecked")
        Map<String, Object> config = body.config() == null ? Map.of() : json.convertValue(body.config(), Map.class);
        TrainingJobService.NewJob job = new TrainingJobService.NewJob(body.modelType(), body.datasetId(), config,
                blankAsNone(body.experimentName()), blankAsNone(body.description()));
        return jobs.create(caller.team(), job, idempotencyKey, IdempotencyKeys.fingerprint(json, body))
                .map(j -> JobViews.full(j, null));
    }

    @GET
    @Path("/{job_id}")
    @Operation(summary = "Get a training job: progress while it runs, its place in the queue while it waits, metrics and artifacts when it is done")
    @APIResponse(responseCode = "200")
    @APIResponse(responseCode = "404", description = "No training job with this id in the caller's team")
    public Uni<JobView> get(@PathParam("job_id") String jobId) {
        return jobs.state(caller.team(), jobId).map(s -> JobViews.full(s.job(), s.queuePosition()));
    }

    @GET
    @Operation(summary = "List training jobs, newest first; filter by status and model_type")
    @APIResponse(responseCode = "200")
    @APIResponse(responseCode = "400", description = "Invalid filter, limit or offset")
    @Extension(name = Page.ITEMS, value = "jobs")
    public Uni<Page<JobSummary>> list(@QueryParam("status") String status, @QueryParam("model_type") String modelType,
            @QueryParam("limit") String limit, @QueryParam("offset") String offset) {
        PageParams page = PageParams.parse(limit, offset);
        return jobs.list(caller.team(), status, modelType, page)
                .map(p -> Page.of("jobs", p.items().stream().map(JobViews::summary).toList(), p.total(), page));
    }

    @RolesAllowed(Identity.SCOPE_WRITE)
    @POST
    @Path("/{job_id}/cancel")
    @Operation(summary = "Cancel a job: a queued one at once, a running one after its trainer checkpoints and stops")
    @APIResponse(responseCode = "200")
    @APIResponse(responseCode = "404", description = "No training job with this id in the caller's team")
    @APIResponse(responseCode = "409", description = "The job has ended already")
    public Uni<Cancelled> cancel(@PathParam("job_id") String jobId) {
        return jobs.cancel(caller.team(), jobId).map(j -> new Cancelled(j.jobId, j.status, switch (j.status) {
            case CANCELLED -> "Job cancelled; it never ran";
            default -> "Job cancellation in progress: the trainer writes a checkpoint and stops";
        }));
    }

    @GET
    @Path("/{job_id}/events")
    @Operation(summary = "A job's history, newest first: status changes, steps, checkpoints, evaluation, warnings")
    @APIResponse(responseCode = "200")
    @APIResponse(responseCode = "400", description = "Invalid limit or offset")
    @APIResponse(responseCode = "404", description = "No training job with this id in the caller's team")
    @Extension(name = Page.ITEMS, value = "events")
    public Uni<Page<EventView>> events(@PathParam("job_id") String jobId, @QueryParam("limit") String limit,
            @QueryParam("offset") String offset) {
        PageParams page = PageParams.parse(limit, offset);
        return jobs.events(caller.team(), jobId, page)
                .map(p -> Page.of("events", p.items().stream().map(JobViews::event).toList(), p.total(), page));
    }

    @GET
    @Path("/{job_id}/events")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @KnownJob
    @Operation(summary = "A job's history as server-sent events, oldest first, live until the job ends; "
            + "reconnect with Last-Event-ID to resume after the last event received")
    public Multi<OutboundSseEvent> follow(@PathParam("job_id") String jobId, @HeaderParam("Last-Event-ID") String lastEventId,
            @Context Sse sse) {
        long after = parseLastEventId(lastEventId);
        int[] quiet = {0};
        return Multi.createFrom().uni(jobs.get(caller.team(), jobId))
                .onItem().transformToMultiAndConcatenate(job -> stream.follow(jobId, after))
                .onItem().transformToIterable(batch -> {
                    if (!batch.events().isEmpty()) {
                        quiet[0] = 0;
                        return batch.events().stream().map(e -> sse.newEventBuilder().id(Long.toString(e.id)).name(e.type)
                                .data(toJson(JobViews.event(e))).build()).toList();
                    }
                    if (++quiet[0] % KEEP_ALIVE_EVERY == 0) {
                        return List.of(sse.newEventBuilder().comment("keep-alive").build());
                    }
                    return List.of();
                });
    }

    @GET
    @Path("/{job_id}/checkpoints")
    @Operation(summary = "The checkpoints a job's trainer wrote, newest first")
    @APIResponse(responseCode = "200")
    @APIResponse(responseCode = "404", description = "No training job with this id in the caller's team")
    public Uni<Map<String, List<CheckpointView>>> checkpoints(@PathParam("job_id") String jobId) {
        return jobs.checkpoints(caller.team(), jobId)
                .map(list -> Map.of("checkpoints", list.stream().map(JobViews::checkpoint).toList()));
    }

    /** An event's data: its view as one line of JSON. */
    private String toJson(Object view) {
        try {
            return json.writeValueAsString(view);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long parseLastEventId(String value) {
        if (value == null || value.isBlank()) {
            return 0;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("Invalid header 'Last-Event-ID': expected a whole number, the id of the last event"
                    + " received from this stream, got " + ErrorMappers.quoted(value));
        }
    }

    /** An empty (or blank) name or description is none, as if left out. */
    private static String blankAsNone(String text) {
        return text == null || text.isBlank() ? null : text;
    }
}
