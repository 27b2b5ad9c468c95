package dev.mlinfra.infra.service;

import io.quarkus.runtime.StartupEvent;
import io.quarkus.vertx.VertxContextSupport;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Checks the ledger's configuration, says what it hands out, and synchronises the pool table
 * before the consumer of {@code mlinfra.gpu} starts (messaging starts at library priority, after
 * this observer), so that the first event already finds its pool.
 */
@ApplicationScoped
public class LedgerStartup {

    private static final Logger LOG = Logger.getLogger(LedgerStartup.class);

    private final GpuLedger ledger;
    private final LedgerMetrics metrics;

    public LedgerStartup(GpuLedger ledger, LedgerMetrics metrics) {
        this.ledger = ledger;
        this.metrics = metrics;
    }

    void start(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent event) throws Throwable {
        LedgerRules rules = ledger.rules();
        List<String> problems = rules.problems();
        if (!problems.isEmpty()) {
            throw new IllegalStateException("The GPU ledger cannot start: " + String.join("; ", problems));
        }
        rules.summary().forEach(LOG::info);
        // Startup may block: it waits for the pool table, through Quarkus' bridge into the reactive session.
        VertxContextSupport.subscribeAndAwait(ledger::synchronisePools);
        metrics.track(rules.pools().keySet());
        VertxContextSupport.subscribeAndAwait(metrics::refresh);
    }
}
