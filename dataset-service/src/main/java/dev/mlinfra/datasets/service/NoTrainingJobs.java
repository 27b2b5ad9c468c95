package dev.mlinfra.datasets.service;

import io.quarkus.arc.DefaultBean;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Training-service has no job endpoints yet, so no training job can reference a dataset. It is
 * a default bean: the implementation that asks training-service replaces it.
 */
@DefaultBean
@ApplicationScoped
public class NoTrainingJobs implements DatasetReferences {

    @Override
    public Uni<String> inUseBy(String team, String datasetId) {
        return Uni.createFrom().nullItem();
    }
}
