package dev.mlinfra.datasets.service;

import dev.mlinfra.datasets.repository.DatasetRepository;
import io.quarkus.hibernate.reactive.panache.common.WithTransaction;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Tells the database, every {@code mlinfra.datasets.heartbeat-interval}, which uploads this
 * process is receiving, so the sweeper of any replica can tell a slow upload that is still alive
 * from one whose receiver is gone (killed or crashed): the latter stops beating and fails after
 * {@code mlinfra.datasets.stall-timeout}.
 */
@ApplicationScoped
public class UploadHeartbeat {

    private static final Logger LOG = Logger.getLogger(UploadHeartbeat.class);

    private final DatasetRepository repository;
    private final Set<String> receiving = ConcurrentHashMap.newKeySet();

    public UploadHeartbeat(DatasetRepository repository) {
        this.repository = repository;
    }

    void track(String uploadId) {
        receiving.add(uploadId);
    }

    void untrack(String uploadId) {
        receiving.remove(uploadId);
    }

    @Scheduled(every = "${mlinfra.datasets.heartbeat-interval}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> beat() {
        if (receiving.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return touch(List.copyOf(receiving)).onFailure().recoverWithItem(e -> {
            LOG.warnf("Upload heartbeat failed, the next one retries: %s", e.toString());
            return 0;
        }).replaceWithVoid();
    }

    @WithTransaction
    Uni<Integer> touch(List<String> uploadIds) {
        return repository.heartbeat(uploadIds, Instant.now());
    }
}
