package dev.mlinfra.infra.service;

import dev.mlinfra.infra.client.PrometheusHistory;
import dev.mlinfra.infra.config.InfraConfig;
import dev.mlinfra.infra.probe.ComponentProbe;
import dev.mlinfra.infra.probe.ComponentProbe.Entry;
import dev.mlinfra.infra.probe.ComponentStatus;
import dev.mlinfra.infra.probe.ComponentStatus.Health;
import dev.mlinfra.infra.probe.HostUsage;
import dev.mlinfra.infra.probe.HttpProbe;
import dev.mlinfra.infra.probe.KafkaProbe;
import dev.mlinfra.infra.probe.MlflowProbe;
import dev.mlinfra.infra.probe.ObjectStoreProbe;
import dev.mlinfra.infra.probe.PostgresProbe;
import dev.mlinfra.infra.probe.ServicesProbe;
import dev.mlinfra.infra.probe.ServingBackendProbe;
import dev.mlinfra.infra.probe.TrainingBackendProbe;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The platform's status: every component in use probed in parallel, each within the probe timeout, and
 * the resources with the GPU ledger's allocation: in a cluster (Prometheus configured) the cluster's
 * figures from Prometheus, else the newest usage reading of this machine.
 *
 * <p>The rule: {@code unhealthy} when a core component (PostgreSQL, Kafka, the object store) is
 * unhealthy, since nothing can be stored or announced then; {@code degraded} when any other component
 * (a service, the training or serving backend, the MLflow mirror) is not healthy; else {@code healthy}.
 */
@ApplicationScoped
public class StatusService {

    /** Grace beyond the probe timeout for the combination itself; a probe later than that is reported as timed out. */
    private static final Duration GRACE = Duration.ofMillis(50);

    public record Status(Health status, Map<String, ComponentStatus> components, Resources resources, Instant checkedAt) {
    }

    /** Usage figures (percent; null where there is no figure) and the ledger's pools (null when the database did not answer). */
    public record Resources(Map<Metric, Double> usage, int gpus, Instant sampledAt, List<GpuLedger.PoolState> pools) {
    }

    private final List<ComponentProbe> probes;
    private final UsageSampler sampler;
    private final PrometheusHistory prometheus;
    private final GpuLedger ledger;
    private final InfraConfig config;

    public StatusService(PostgresProbe postgres, KafkaProbe kafka, ObjectStoreProbe objectStore,
            TrainingBackendProbe training, ServingBackendProbe serving, MlflowProbe mlflow, ServicesProbe services,
            UsageSampler sampler, PrometheusHistory prometheus, GpuLedger ledger, InfraConfig config) {
        this.probes = List.of(postgres, kafka, objectStore, training, serving, mlflow, services);
        this.sampler = sampler;
        this.prometheus = prometheus;
        this.ledger = ledger;
        this.config = config;
    }

    /** @param forwarded the caller's identity for peers' internal APIs */
    public Uni<Status> status(Map<String, String> forwarded) {
        Duration timeout = config.probeTimeout();
        List<Uni<List<Entry>>> checks = new ArrayList<>();
        for (ComponentProbe probe : probes) {
            checks.add(probe.probe(forwarded, timeout)
                    .ifNoItem().after(timeout.plus(GRACE)).recoverWithItem(() -> unhealthy(probe, "did not answer within " + timeout.toMillis() + " ms"))
                    .onFailure().recoverWithItem(e -> unhealthy(probe, HttpProbe.reason(e))));
        }
        Uni<List<GpuLedger.PoolState>> pools = ledger.pools()
                .ifNoItem().after(timeout).recoverWithItem(() -> null)
                .onFailure().recoverWithNull();
        return Uni.combine().all().unis(Uni.join().all(checks).andFailFast(), pools, usage(timeout)).asTuple().map(t -> {
            Map<String, ComponentStatus> components = new LinkedHashMap<>();
            Health overall = Health.HEALTHY;
            for (List<Entry> entries : t.getItem1()) {
                for (Entry e : entries) {
                    components.put(e.key(), e.status());
                    Health h = e.status().health();
                    overall = overall.and(e.core() && h == Health.UNHEALTHY ? Health.UNHEALTHY
                            : h == Health.HEALTHY ? Health.HEALTHY : Health.DEGRADED);
                }
            }
            Usage usage = t.getItem3();
            Resources resources = new Resources(usage.figures(), usage.gpus(), usage.at(), t.getItem2());
            return new Status(overall, components, resources, Instant.now());
        });
    }

    /**
     * The usage figures: Prometheus' at the last whole second before now (its newest samples, as an
     * instant query takes them) where it is configured, no reading when it does not answer in time;
     * else the newest reading of this machine.
     */
    private Uni<Usage> usage(Duration timeout) {
        if (config.prometheus().url().isPresent()) {
            Instant at = Instant.now().minusSeconds(1).truncatedTo(ChronoUnit.SECONDS);
            return prometheus.current(at, timeout).ifNoItem().after(timeout.plus(GRACE)).recoverWithItem(() -> Usage.NONE);
        }
        HostUsage.Reading reading = sampler.latest();
        return Uni.createFrom().item(reading == null ? Usage.NONE : new Usage(reading.host(), reading.gpus(), reading.at()));
    }

    /** Every key the probe reports, unhealthy for {@code reason} (a probe that timed out or broke). */
    private static List<Entry> unhealthy(ComponentProbe probe, String reason) {
        return probe.keys().entrySet().stream()
                .map(k -> new Entry(k.getKey(), ComponentStatus.unhealthy(reason), k.getValue())).toList();
    }

    /** The keys a metrics query may name: every component the status reports, and those sampled locally. */
    public Set<String> componentKeys() {
        Set<String> keys = new LinkedHashSet<>();
        probes.forEach(p -> keys.addAll(p.names()));
        keys.addAll(config.local().processes().keySet());
        keys.addAll(config.local().dataDirs().keySet());
        return keys;
    }
}
