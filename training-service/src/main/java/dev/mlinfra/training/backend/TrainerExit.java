package dev.mlinfra.training.backend;

/**
 * How a trainer ended.
 *
 * @param jobId    the job
 * @param outcome  what the end means for the job
 * @param exitCode the process's exit code where the backend knows it
 * @param reason   why it failed, in the trainer's words where it said (null on success)
 */
public record TrainerExit(String jobId, Outcome outcome, Integer exitCode, String reason) {

    public enum Outcome {
        /** Trained, evaluated, artifacts written. */
        SUCCEEDED,
        /** Failed; {@code reason} says why. */
        FAILED,
        /** Stopped when asked (or by its host): it wrote a checkpoint and can resume. */
        STOPPED,
        /** Ended without its backend seeing how (its process outlived a restart of the service). */
        LOST
    }
}
