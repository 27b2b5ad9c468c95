package dev.mlinfra.infra.rest;

import dev.mlinfra.infra.GpuPool;
import dev.mlinfra.infra.GpuRequest;
import dev.mlinfra.infra.GpuRequest.Status;
import dev.mlinfra.infra.service.GpuLedger.PoolState;
import dev.mlinfra.infra.service.GpuLedger.RequestState;
import java.time.Instant;
import java.util.List;

/** The API records of the GPU ledger's internal API. */
public final class GpuViews {

    private GpuViews() {
    }

    /** A request for capacity; {@code queue_position} (1-based) only while it waits. */
    public record RequestView(String requestId, String requester, String team, String modelType, String pool,
            Integer gpus, Status status, Long queuePosition, Instant requestedAt, Instant grantedAt, Instant releasedAt,
            String reason) {
    }

    /** A pool: its size, GPUs (or slots) granted, requests waiting. */
    public record PoolView(String name, GpuPool.Kind kind, int size, long allocated, long waiting) {
    }

    public record PoolList(List<PoolView> pools) {
    }

    public static RequestView of(RequestState state) {
        GpuRequest r = state.request();
        return new RequestView(r.requestId, r.requester, r.team, r.modelType, r.pool, r.gpus, r.status,
                state.queuePosition(), r.requestedAt, r.grantedAt, r.releasedAt, r.reason);
    }

    public static PoolList pools(List<PoolState> pools) {
        return new PoolList(pools.stream()
                .map(p -> new PoolView(p.name(), p.kind(), p.size(), p.allocated(), p.waiting())).toList());
    }
}
