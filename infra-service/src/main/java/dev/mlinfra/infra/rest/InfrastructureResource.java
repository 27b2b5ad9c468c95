package dev.mlinfra.infra.rest;

import dev.mlinfra.commons.http.ForwardedCaller;
import dev.mlinfra.commons.identity.CurrentIdentity;
import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.infra.rest.InfrastructureViews.MetricsView;
import dev.mlinfra.infra.rest.InfrastructureViews.StatusView;
import dev.mlinfra.infra.service.MetricsService;
import dev.mlinfra.infra.service.StatusService;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedHashMap;
import java.util.HashMap;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;

/** The contract's "Infrastructure Management": the platform's status and its usage history. */
@Path("/v1/infrastructure")
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed(Identity.SCOPE_READ)
public class InfrastructureResource {

    private final StatusService status;
    private final MetricsService metrics;
    private final ForwardedCaller caller;
    private final CurrentIdentity identity;

    public InfrastructureResource(StatusService status, MetricsService metrics, ForwardedCaller caller,
            CurrentIdentity identity) {
        this.status = status;
        this.metrics = metrics;
        this.caller = caller;
        this.identity = identity;
    }

    @GET
    @Path("/status")
    @Operation(summary = "Status of every component in use (probed now, versions as they report them) and resource usage",
            description = "status: unhealthy when PostgreSQL, Kafka or the object store is down; degraded when any other "
                    + "component is not healthy; else healthy. Where each component runs (endpoints, bucket, Kafka cluster"
                    + " id, the engine's jar) and the serving backend's servers with every team's loaded models are shown"
                    + " to admin keys only")
    public Uni<StatusView> status() {
        Map<String, String> forwarded = new HashMap<>();
        caller.update(new MultivaluedHashMap<>(), new MultivaluedHashMap<>()).forEach((k, v) -> forwarded.put(k, v.get(0)));
        boolean operator = identity.get().hasScope(Identity.SCOPE_ADMIN);
        return status.status(forwarded).map(s -> InfrastructureViews.of(s, operator));
    }

    @GET
    @Path("/metrics")
    @Operation(summary = "Usage history per period: one averaged point per interval (1h: 1m, 6h: 5m, 24h: 15m, 7d: 2h, 30d: 8h)")
    @APIResponse(responseCode = "200")
    @APIResponse(responseCode = "400", description = "Invalid component, metric or period")
    public Uni<MetricsView> metrics(
            @Parameter(description = "a component key of the status; absent: the platform as a whole") @QueryParam("component") String component,
            @Parameter(description = "cpu, memory, gpu or storage; absent: all four") @QueryParam("metric") String metric,
            @Parameter(description = "1h, 6h, 24h, 7d or 30d; default 1h") @QueryParam("period") String period) {
        return metrics.history(component, metric, period).map(InfrastructureViews::of);
    }
}
