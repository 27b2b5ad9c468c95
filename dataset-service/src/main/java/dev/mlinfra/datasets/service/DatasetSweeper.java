package dev.mlinfra.datasets.service;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

/** Runs the clean-up of abandoned uploads and interrupted deletions on every replica. */
@ApplicationScoped
public class DatasetSweeper {

    private static final Logger LOG = Logger.getLogger(DatasetSweeper.class);

    private final DatasetService datasets;
    private volatile boolean stopping;

    public DatasetSweeper(DatasetService datasets) {
        this.datasets = datasets;
    }

    void stop(@Observes ShutdownEvent event) {
        stopping = true;
    }

    /** A round cut short by the service's stop (its database pool closes) is no failure: the next start sweeps. */
    @Scheduled(every = "${mlinfra.datasets.sweep-interval}", delayed = "5s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> sweep() {
        return datasets.sweep().onFailure().recoverWithItem(e -> {
            if (stopping) {
                LOG.infof("Dataset sweep stopped with the service; the next start sweeps again (%s)", e.toString());
                return null;
            }
            LOG.warnf("Dataset sweep failed, next round retries: %s", e.toString());
            return null;
        });
    }
}
