package dev.mlinfra.training.rest;

import dev.mlinfra.training.service.JobRunner;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * For the platform's status (infra-service): which backend runs trainers, the trainer's version,
 * and whether a job granted capacity now would get one. Nothing is started to find out. The
 * gateway does not route /internal.
 */
@Path("/internal/v1/training/backend")
@Produces(MediaType.APPLICATION_JSON)
public class InternalBackendResource {

    /**
     * The backend as the status shows it: {@code version} and {@code engine_jar} are left out when
     * unknown, {@code reason} says what to fix when {@code can_start} is false (and only then).
     */
    public record BackendView(String backend, String version, String engineJar, boolean canStart, String reason) {
    }

    private final JobRunner runner;

    public InternalBackendResource(JobRunner runner) {
        this.runner = runner;
    }

    @GET
    @Operation(summary = "Which training backend runs jobs, its trainer's version, and whether it can start a trainer now")
    public Uni<BackendView> backend() {
        return runner.backendStatus()
                .map(s -> new BackendView(s.backend(), s.version(), s.engineJar(), s.canStart(), s.reason()));
    }
}
