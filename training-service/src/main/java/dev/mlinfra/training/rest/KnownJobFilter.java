package dev.mlinfra.training.rest;

import dev.mlinfra.commons.identity.CurrentIdentity;
import dev.mlinfra.training.service.TrainingJobService;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/** Answers 404, with the error object, for a {@link KnownJob} endpoint of a job the caller's team does not have. */
public class KnownJobFilter {

    private final TrainingJobService jobs;
    private final CurrentIdentity caller;

    public KnownJobFilter(TrainingJobService jobs, CurrentIdentity caller) {
        this.jobs = jobs;
        this.caller = caller;
    }

    @KnownJob
    @ServerRequestFilter
    public Uni<Response> jobOfTheCallersTeam(UriInfo uri) {
        // A failure (404, or the database unavailable) is answered by the exception mappers.
        return jobs.get(caller.team(), uri.getPathParameters().getFirst("job_id")).replaceWith((Response) null);
    }
}
