package dev.mlinfra.infra.service;

import dev.mlinfra.infra.repository.GpuRequestRepository;
import dev.mlinfra.infra.repository.GpuRequestRepository.PoolUsage;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Gauges per configured pool: {@code mlinfra.gpu.allocated} (GPUs or slots granted and not given
 * back) and {@code mlinfra.gpu.waiting} (requests in the queue), tag {@code pool}. They are read
 * from the database, the ledger's one truth across replicas: after every event this replica
 * applies, and on a schedule for what other replicas did.
 */
@ApplicationScoped
public class LedgerMetrics {

    private static final Logger LOG = Logger.getLogger(LedgerMetrics.class);
    static final String ALLOCATED = "mlinfra.gpu.allocated";
    static final String WAITING = "mlinfra.gpu.waiting";

    private final MeterRegistry registry;
    private final GpuRequestRepository requests;
    private final Map<String, AtomicLong> allocated = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> waiting = new ConcurrentHashMap<>();

    public LedgerMetrics(MeterRegistry registry, GpuRequestRepository requests) {
        this.registry = registry;
        this.requests = requests;
    }

    /** Registers the gauges of the configured pools. */
    void track(Collection<String> pools) {
        for (String pool : pools) {
            Gauge.builder(ALLOCATED, allocated.computeIfAbsent(pool, p -> new AtomicLong()), AtomicLong::get)
                    .description("GPUs (or execution slots) of the pool granted and not given back")
                    .tag("pool", pool).strongReference(true).register(registry);
            Gauge.builder(WAITING, waiting.computeIfAbsent(pool, p -> new AtomicLong()), AtomicLong::get)
                    .description("Requests waiting in the pool's queue")
                    .tag("pool", pool).strongReference(true).register(registry);
        }
    }

    /** Reads the gauges' values anew. */
    public Uni<Void> refresh() {
        return requests.usage().invoke(usage -> {
            allocated.forEach((pool, value) -> value.set(usage.getOrDefault(pool, new PoolUsage(pool, 0, 0)).allocated()));
            waiting.forEach((pool, value) -> value.set(usage.getOrDefault(pool, new PoolUsage(pool, 0, 0)).waiting()));
        }).replaceWithVoid();
    }

    @Scheduled(every = "${mlinfra.gpu.metrics-refresh}", delayed = "${mlinfra.gpu.metrics-refresh}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> scheduledRefresh() {
        return refresh().onFailure().recoverWithItem(e -> {
            LOG.debugf("GPU gauges not refreshed, the next round tries again: %s", e.toString());
            return null;
        });
    }
}
