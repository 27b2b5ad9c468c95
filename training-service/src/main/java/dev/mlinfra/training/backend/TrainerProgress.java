package dev.mlinfra.training.backend;

/**
 * How far a trainer is, as its cluster reports it (Kubeflow Trainer's {@code status.trainerStatus}
 * where its TrainJobStatus feature gate is on), beside the trainer's own step reports.
 *
 * @param jobId      the job
 * @param percent    0..100
 * @param etaSeconds the time left the cluster estimates, when it does
 */
public record TrainerProgress(String jobId, int percent, Long etaSeconds) {
}
