package dev.mlinfra.infra;

import dev.mlinfra.commons.persistence.TextEnum;
import dev.mlinfra.commons.persistence.TextEnumConverter;
import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Converter;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.NamedQueries;
import jakarta.persistence.NamedQuery;
import jakarta.persistence.Table;
import java.time.Instant;

/**
 * One request for GPU capacity, unique by requester and request id (the requester's job or
 * deployment id). {@code seq} is its place in the FIFO order of its pool. A release that arrives
 * before its request leaves a row without {@code requestedAt} (a tombstone), so the request, when
 * it comes late, is never granted.
 */
@Entity
@Table(name = "gpu_request")
@NamedQueries({
        @NamedQuery(name = GpuRequest.POOL_OF, query = """
                select pool from GpuRequest where requester = :requester and requestId = :requestId"""),
        @NamedQuery(name = GpuRequest.OF_TEAM, query = """
                from GpuRequest where team = :team and requestId = :requestId and requester = coalesce(:requester, requester)
                order by seq desc"""),
        @NamedQuery(name = GpuRequest.QUEUE, query = """
                from GpuRequest where pool = :pool and status = :waiting order by seq"""),
        @NamedQuery(name = GpuRequest.POSITION, query = """
                select count(*) from GpuRequest where pool = :pool and status = :waiting and seq <= :seq"""),
        @NamedQuery(name = GpuRequest.ALLOCATED, query = """
                select coalesce(sum(gpus), 0L) from GpuRequest where pool = :pool and status = :granted"""),
        @NamedQuery(name = GpuRequest.HELD_BY_TEAM, query = """
                select team, sum(gpus) from GpuRequest where status = :granted group by team"""),
        @NamedQuery(name = GpuRequest.USAGE, query = """
                select pool, status, count(*), coalesce(sum(gpus), 0L) from GpuRequest
                where pool is not null and status in :statuses group by pool, status""")
})
public class GpuRequest extends PanacheEntityBase {

    public static final String POOL_OF = "GpuRequest.poolOf";
    public static final String OF_TEAM = "GpuRequest.ofTeam";
    public static final String QUEUE = "GpuRequest.queue";
    public static final String POSITION = "GpuRequest.position";
    public static final String ALLOCATED = "GpuRequest.allocated";
    public static final String HELD_BY_TEAM = "GpuRequest.heldByTeam";
    public static final String USAGE = "GpuRequest.usage";

    /** Where a request stands. */
    public enum Status implements TextEnum {
        /** Queued in its pool, FIFO. */
        WAITING("waiting"),
        /** Holds its GPUs until the requester releases them. */
        GRANTED("granted"),
        /** Given back (or withdrawn from the queue, or released before it was requested). */
        RELEASED("released"),
        /** Can never be granted; {@code reason} says why. */
        DENIED("denied");

        private final String value;

        Status(String value) {
            this.value = value;
        }

        @Override
        public String value() {
            return value;
        }
    }

    @Converter(autoApply = true)
    public static class StatusConverter extends TextEnumConverter<Status> {
        public StatusConverter() {
            super(Status.class);
        }
    }

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long seq;

    @Column(name = "request_id", nullable = false)
    public String requestId;

    @Column(nullable = false)
    public String requester;

    @Column(nullable = false)
    public String team;

    /** Null for a release that came before its request. */
    @Column(name = "model_type")
    public String modelType;

    /** Null when no pool serves the model type (denied), or for a release that came before its request. */
    public String pool;

    public Integer gpus;

    @Column(nullable = false)
    public Status status;

    /** Why it was denied, or why it was released (as the requester said). */
    public String reason;

    @Column(name = "requested_at")
    public Instant requestedAt;

    @Column(name = "granted_at")
    public Instant grantedAt;

    @Column(name = "released_at")
    public Instant releasedAt;

    /** A release that came first, with no request (yet). */
    public boolean isTombstone() {
        return status == Status.RELEASED && requestedAt == null;
    }
}
