package dev.mlinfra.datasets.service;

import io.smallrye.mutiny.Uni;

/**
 * Whether a dataset is in use by a queued or running training job, which keeps it from being
 * deleted. Training jobs are owned by training-service, which answers this once its job
 * endpoints exist; {@link NoTrainingJobs} is the answer while no job can exist.
 */
public interface DatasetReferences {

    /** A short description of what uses the dataset (e.g. "training job train-42 (running)"), or null. */
    Uni<String> inUseBy(String team, String datasetId);
}
