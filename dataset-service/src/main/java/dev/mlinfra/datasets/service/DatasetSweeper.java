package dev.mlinfra.datasets.service;

import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

/** Runs the clean-up of abandoned uploads and interrupted deletions on every replica. */
@ApplicationScoped
public class DatasetSweeper {

    private static final Logger LOG = Logger.getLogger(DatasetSweeper.class);

    private final DatasetService datasets;

    public DatasetSweeper(DatasetService datasets) {
        this.datasets = datasets;
    }

    @Scheduled(every = "${mlinfra.datasets.sweep-interval}", delayed = "5s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> sweep() {
        return datasets.sweep().onFailure().recoverWithItem(e -> {
            LOG.warnf("Dataset sweep failed, next round retries: %s", e.toString());
            return null;
        });
    }
}
