package dev.mlinfra.infra.rest;

import dev.mlinfra.commons.error.ApiException;
import dev.mlinfra.commons.identity.CurrentIdentity;
import dev.mlinfra.infra.rest.GpuViews.PoolList;
import dev.mlinfra.infra.rest.GpuViews.RequestView;
import dev.mlinfra.infra.service.GpuLedger;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * For requesters (training, inference): where a request for GPU capacity stands, and what the
 * pools hold. The gateway does not route /internal; callers forward the identity token of the
 * request they serve, and see only their team's requests.
 */
@Path("/internal/v1/gpu")
@Produces(MediaType.APPLICATION_JSON)
public class GpuLedgerResource {

    private final GpuLedger ledger;
    private final CurrentIdentity caller;

    public GpuLedgerResource(GpuLedger ledger, CurrentIdentity caller) {
        this.ledger = ledger;
        this.caller = caller;
    }

    @GET
    @Path("/requests/{request_id}")
    @Operation(summary = "A GPU capacity request of the caller's team: status, pool, GPUs, queue position while waiting",
            description = "requester narrows the look-up to one requester (e.g. training-service) when several use the same id")
    public Uni<RequestView> request(@PathParam("request_id") String requestId, @QueryParam("requester") String requester) {
        return ledger.describe(caller.team(), requestId, requester).onItem().ifNull()
                .failWith(() -> ApiException.notFound("GPU capacity request '" + requestId + "' not found"))
                .map(GpuViews::of);
    }

    @GET
    @Path("/pools")
    @Operation(summary = "The configured GPU pools: kind (gpu or slot), size, allocated GPUs, waiting requests")
    public Uni<PoolList> pools() {
        return ledger.pools().map(GpuViews::pools);
    }
}
