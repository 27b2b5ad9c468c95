package dev.mlinfra.infra.service;

import dev.mlinfra.commons.events.GpuCapacity;
import dev.mlinfra.infra.GpuPool;
import dev.mlinfra.infra.GpuRequest;
import dev.mlinfra.infra.GpuRequest.Status;
import dev.mlinfra.infra.config.GpuConfig;
import dev.mlinfra.infra.messaging.GpuEvents;
import dev.mlinfra.infra.repository.GpuPoolRepository;
import dev.mlinfra.infra.repository.GpuRequestRepository;
import dev.mlinfra.infra.repository.GpuRequestRepository.PoolUsage;
import dev.mlinfra.infra.service.LedgerRules.Decision;
import dev.mlinfra.infra.service.LedgerRules.Deny;
import dev.mlinfra.infra.service.LedgerRules.Grant;
import dev.mlinfra.infra.service.LedgerRules.Need;
import dev.mlinfra.infra.service.LedgerRules.PoolSpec;
import dev.mlinfra.infra.service.LedgerRules.Round;
import dev.mlinfra.infra.service.LedgerRules.Waiting;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.hibernate.reactive.panache.common.WithTransaction;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * The GPU capacity ledger: requests queue FIFO in the pool their model type uses, and after every
 * request and every release the pool's queue is granted as far as {@link LedgerRules} allows.
 * A grant or denial is recorded together with its event (outbox) in one transaction.
 *
 * <p>Decisions about a pool are taken under the lock of its row, so replicas that consume
 * concurrently decide one after the other. With a team quota, which spans pools, a decision locks
 * every pool (in name order) and runs a round in each of them.
 */
@ApplicationScoped
public class GpuLedger {

    private static final Logger LOG = Logger.getLogger(GpuLedger.class);

    /** A request as the internal API shows it: its row, and its 1-based place in the queue while it waits. */
    public record RequestState(GpuRequest request, Long queuePosition) {
    }

    /** A pool as the internal API shows it: GPUs granted, requests waiting. */
    public record PoolState(String name, GpuPool.Kind kind, int size, long allocated, long waiting) {
    }

    private final GpuPoolRepository pools;
    private final GpuRequestRepository requests;
    private final GpuEvents events;
    private final LedgerRules rules;

    public GpuLedger(GpuPoolRepository pools, GpuRequestRepository requests, GpuEvents events, GpuConfig config) {
        this.pools = pools;
        this.requests = requests;
        this.events = events;
        this.rules = LedgerRules.from(config);
    }

    public LedgerRules rules() {
        return rules;
    }

    /**
     * Records a request for capacity and grants it if its pool can now. A request id the
     * requester used before changes nothing (the requester restarted and asked again); one whose
     * release came first is remembered as requested and never granted.
     */
    @WithTransaction
    public Uni<Void> request(GpuCapacity.Requested r) {
        Instant now = now();
        Optional<Need> need = rules.need(r.modelType());
        if (need.isEmpty()) {
            return requests.byRequester(r.requester(), r.requestId()).flatMap(known -> known != null
                    ? repeated(known, r, null, now)
                    : deny(newRequest(r, null, now), rules.unknownModelType(r.modelType()), true));
        }
        Need n = need.get();
        return lockFor(n.pool()).flatMap(locked -> requests.byRequester(r.requester(), r.requestId()).flatMap(known -> {
            if (known != null) {
                return repeated(known, r, n, now);
            }
            GpuPool pool = locked.get(n.pool());
            if (pool == null) {
                // Pools are synchronised at start, before events are consumed; the consumer retries until then.
                return Uni.createFrom().failure(new IllegalStateException("GPU pool '" + n.pool() + "' is not in the database yet"));
            }
            GpuRequest row = newRequest(r, n, now);
            Optional<String> never = rules.neverGrantable(spec(pool), n.gpus());
            if (never.isPresent()) {
                return deny(row, never.get(), true);
            }
            row.status = Status.WAITING;
            return requests.persist(row)
                    .invoke(() -> LOG.infof("%s of %s (team %s, %s) queued for %s of pool '%s'", r.requestId(),
                            r.requester(), r.team(), r.modelType(), pool.kind.count(n.gpus()), pool.name))
                    .flatMap(ignored -> decide(locked, n.pool()));
        }));
    }

    /**
     * Frees a granted request's capacity, or takes a waiting one out of the queue, then grants
     * what now fits. A release of a request never seen is remembered (a tombstone); a second
     * release changes nothing.
     */
    @WithTransaction
    public Uni<Void> release(GpuCapacity.Released r) {
        Instant now = now();
        return requests.locate(r.requester(), r.requestId()).flatMap(located -> {
            if (located == null) {
                return tombstone(r, now);
            }
            Uni<Map<String, GpuPool>> locking = located.pool() == null ? Uni.createFrom().item(Map.of())
                    : lockFor(located.pool());
            // Read only once the pool is locked: until then another replica may change it.
            return locking.flatMap(locked -> requests.byRequester(r.requester(), r.requestId()).flatMap(row -> {
                if (row == null || (row.status != Status.WAITING && row.status != Status.GRANTED)) {
                    LOG.debugf("Release of %s by %s changes nothing (%s)", r.requestId(), r.requester(),
                            row == null ? "unknown" : row.status.value());
                    return Uni.createFrom().voidItem();
                }
                Status was = row.status;
                row.status = Status.RELEASED;
                row.releasedAt = now;
                row.reason = r.reason();
                LOG.infof(was == Status.GRANTED ? "%s of %s gave its capacity in pool '%s' back (%s)"
                        : "%s of %s left the queue of pool '%s' (%s)", row.requestId, row.requester, row.pool, r.reason());
                return decide(locked, row.pool);
            }));
        });
    }

    /**
     * Brings the pool table in line with the configuration and runs a round in every pool (sizes
     * or the quota may have changed). Pools that left the configuration grant nothing more;
     * requests waiting in them stay queued until the pool comes back or they are released.
     */
    @WithTransaction
    public Uni<Void> synchronisePools() {
        return Multi.createFrom().iterable(rules.pools().values())
                .onItem().transformToUniAndConcatenate(p -> pools.synchronise(p.name(), p.kind(), p.size()))
                .collect().asList()
                .flatMap(ignored -> pools.retireAllBut(rules.pools().keySet(), Instant.now()))
                .flatMap(ignored -> pools.lockAll())
                .flatMap(all -> decideIn(all.stream().filter(p -> p.configured).toList()))
                .flatMap(ignored -> requests.usage())
                .invoke(usage -> usage.values().stream()
                        .filter(u -> u.waiting() > 0 && !rules.pools().containsKey(u.pool()))
                        .forEach(u -> LOG.warnf("GPU pool '%s' is no longer configured: %d requests wait in it until it "
                                + "is configured again or their requesters release them", u.pool(), u.waiting())))
                .replaceWithVoid();
    }

    /** A request of the team (of the given requester, unless null); null when the team has none of that id. */
    @WithSession
    public Uni<RequestState> describe(String team, String requestId, String requester) {
        return requests.ofTeam(team, requestId, requester).flatMap(r -> {
            if (r == null) {
                return Uni.createFrom().nullItem();
            }
            if (r.status != Status.WAITING) {
                return Uni.createFrom().item(new RequestState(r, null));
            }
            return requests.position(r).map(position -> new RequestState(r, position));
        });
    }

    /** The configured pools with what they have granted and how many requests wait. */
    @WithSession
    public Uni<List<PoolState>> pools() {
        return pools.configured().flatMap(configured -> requests.usage().map(usage -> configured.stream().map(p -> {
            PoolUsage u = usage.getOrDefault(p.name, new PoolUsage(p.name, 0, 0));
            return new PoolState(p.name, p.kind, p.size, u.allocated(), u.waiting());
        }).toList()));
    }

    /** A request id the requester used before: only a release that came first gets to know its request. */
    private Uni<Void> repeated(GpuRequest known, GpuCapacity.Requested r, Need need, Instant now) {
        if (known.isTombstone()) {
            known.modelType = r.modelType();
            known.requestedAt = now;
            if (need != null) {
                known.pool = need.pool();
                known.gpus = need.gpus();
            }
            LOG.infof("%s of %s (team %s) was requested after its release: not queued", r.requestId(), r.requester(),
                    r.team());
        } else {
            LOG.debugf("%s of %s was requested before (%s): nothing changes", r.requestId(), r.requester(),
                    known.status.value());
        }
        return Uni.createFrom().voidItem();
    }

    private Uni<Void> tombstone(GpuCapacity.Released r, Instant now) {
        GpuRequest t = new GpuRequest();
        t.requestId = r.requestId();
        t.requester = r.requester();
        t.team = r.team();
        t.status = Status.RELEASED;
        t.releasedAt = now;
        t.reason = r.reason();
        return requests.persist(t).invoke(() -> LOG.infof("%s of %s (team %s) was released before it was requested: "
                + "remembered, so that it is never granted", r.requestId(), r.requester(), r.team())).replaceWithVoid();
    }

    /** Locks what a decision about {@code pool} depends on: the pool, or every pool when a team quota spans them. */
    private Uni<Map<String, GpuPool>> lockFor(String pool) {
        if (rules.teamQuota().isPresent()) {
            return pools.lockAll().map(all -> all.stream().collect(Collectors.toMap(p -> p.name, Function.identity())));
        }
        return pools.lock(pool).map(p -> p == null ? Map.of() : Map.of(p.name, p));
    }

    /** Runs a round in the pool, or in every locked pool when a team quota spans them. */
    private Uni<Void> decide(Map<String, GpuPool> locked, String pool) {
        List<GpuPool> deciding = new ArrayList<>();
        if (rules.teamQuota().isPresent()) {
            deciding.addAll(locked.values());
        } else if (locked.containsKey(pool)) {
            deciding.add(locked.get(pool));
        }
        return decideIn(deciding.stream().filter(p -> p.configured).toList());
    }

    private Uni<Void> decideIn(List<GpuPool> deciding) {
        if (deciding.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        List<GpuPool> ordered = deciding.stream().sorted(Comparator.comparing(p -> p.name)).toList();
        Instant now = now();
        // Queries below must see this transaction's changes (the new request, the release).
        Uni<Map<String, Integer>> held = requests.flush().flatMap(ignored -> rules.teamQuota().isPresent()
                ? requests.heldByTeam() : Uni.createFrom().item(Map.<String, Integer>of()));
        for (GpuPool pool : ordered) {
            held = held.flatMap(h -> round(pool, h, now));
        }
        return held.replaceWithVoid();
    }

    /** One round in one pool; returns what each team holds after it (the next pool's round starts from there). */
    private Uni<Map<String, Integer>> round(GpuPool pool, Map<String, Integer> held, Instant now) {
        return requests.allocated(pool.name).flatMap(allocated -> requests.queue(pool.name).flatMap(queue -> {
            Round round = rules.decide(spec(pool), allocated,
                    queue.stream().map(q -> new Waiting(q.seq, q.team, q.gpus)).toList(), held);
            Map<Long, GpuRequest> bySeq = new HashMap<>();
            queue.forEach(q -> bySeq.put(q.seq, q));
            Uni<Void> applied = Uni.createFrom().voidItem();
            for (Decision d : round.decisions()) {
                GpuRequest r = bySeq.get(d.seq());
                applied = applied.flatMap(ignored -> switch (d) {
                    case Grant g -> grant(r, pool, now);
                    case Deny deny -> deny(r, deny.reason(), false);
                });
            }
            return applied.replaceWith(round.held());
        }));
    }

    private Uni<Void> grant(GpuRequest r, GpuPool pool, Instant now) {
        r.status = Status.GRANTED;
        r.grantedAt = now;
        LOG.infof("Granted %s of pool '%s' to %s of %s (team %s)", pool.kind.count(r.gpus), pool.name, r.requestId,
                r.requester, r.team);
        return events.granted(r);
    }

    private Uni<Void> deny(GpuRequest r, String reason, boolean isNew) {
        r.status = Status.DENIED;
        r.reason = reason;
        LOG.infof("Denied %s of %s (team %s, %s): %s", r.requestId, r.requester, r.team, r.modelType, reason);
        Uni<Void> stored = isNew ? requests.persist(r).replaceWithVoid() : Uni.createFrom().voidItem();
        return stored.flatMap(ignored -> events.denied(r));
    }

    private static GpuRequest newRequest(GpuCapacity.Requested r, Need need, Instant now) {
        GpuRequest row = new GpuRequest();
        row.requestId = r.requestId();
        row.requester = r.requester();
        row.team = r.team();
        row.modelType = r.modelType();
        row.requestedAt = now;
        if (need != null) {
            row.pool = need.pool();
            row.gpus = need.gpus();
        }
        return row;
    }

    private static PoolSpec spec(GpuPool pool) {
        return new PoolSpec(pool.name, pool.kind, pool.size);
    }

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.SECONDS);
    }
}
