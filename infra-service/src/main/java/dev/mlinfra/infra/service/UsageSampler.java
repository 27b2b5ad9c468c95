package dev.mlinfra.infra.service;

import dev.mlinfra.infra.config.InfraConfig;
import dev.mlinfra.infra.probe.HostUsage;
import dev.mlinfra.infra.repository.MetricSampleRepository;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.jboss.logging.Logger;

/**
 * Samples host and component usage every {@code mlinfra.infra.local.sample-interval} into the database
 * (the history survives restarts; rollups make long periods cheap) and keeps the newest reading for the
 * status's {@code resources}. A round that cannot be stored (the database is away) is logged and lost;
 * the next one is stored when the database is back. With Prometheus configured, the status and the
 * history are Prometheus' and nothing is sampled here (in a cluster this would be the service's own
 * container).
 */
@ApplicationScoped
public class UsageSampler {

    private static final Logger LOG = Logger.getLogger(UsageSampler.class);

    private final HostUsage host;
    private final MetricSampleRepository samples;
    private final InfraConfig config;
    private final AtomicReference<HostUsage.Reading> latest = new AtomicReference<>();
    private final AtomicBoolean storing = new AtomicBoolean(true);
    private final boolean sampling;

    public UsageSampler(HostUsage host, MetricSampleRepository samples, InfraConfig config) {
        this.host = host;
        this.samples = samples;
        this.config = config;
        this.sampling = config.prometheus().url().isEmpty();
    }

    void start(@Observes StartupEvent event) {
        if (!sampling) {
            LOG.infof("usage comes from Prometheus at %s; none is sampled here", config.prometheus().url().get());
            return;
        }
        samples.synchroniseResolutions().await().atMost(config.probeTimeout().multipliedBy(10));
        // CPU figures are differences: the first reading only sets the baseline
        latest.set(host.read());
        LOG.infof("sampling usage every %s (components with processes: %s; data directories: %s); history kept per period",
                config.local().sampleInterval(), config.local().processes().keySet(), config.local().dataDirs().keySet());
    }

    /** The newest reading; null only before the first. */
    public HostUsage.Reading latest() {
        return latest.get();
    }

    /** One round: reads the usage and stores it. */
    @Scheduled(every = "${mlinfra.infra.local.sample-interval:15s}", delayed = "${mlinfra.infra.local.sample-interval:15s}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    public Uni<Void> sample() {
        if (!sampling) {
            return Uni.createFrom().voidItem();
        }
        return Uni.createFrom().item(host::read).runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
                .invoke(latest::set)
                .flatMap(reading -> samples.record(List.of(reading)))
                .invoke(() -> {
                    if (storing.compareAndSet(false, true)) {
                        LOG.info("usage samples are stored again");
                    }
                })
                .onFailure().recoverWithUni(e -> {
                    if (storing.compareAndSet(true, false)) {
                        LOG.warnf("usage samples cannot be stored (%s); they are lost until the database is back", e.getMessage());
                    }
                    return Uni.createFrom().voidItem();
                });
    }

    @Scheduled(every = "${mlinfra.infra.history.cleanup-interval:10m}", delayed = "1m",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> deleteExpired() {
        return samples.deleteExpired(config.history().rawRetention())
                .invoke(n -> LOG.debugf("deleted %d expired samples and rollups", n))
                .onFailure().invoke(e -> LOG.warnf("expired samples were not deleted: %s", e.getMessage()))
                .onFailure().recoverWithNull().replaceWithVoid();
    }
}
