package dev.mlinfra.training.backend;

/**
 * How a trainer ended.
 *
 * @param jobId    the job
 * @param outcome  what the end means for the job
 * @param exitCode the process's exit code where the backend knows it
 * @param reason   why it failed, in the trainer's words where it said (null on success)
 * @param attempt  which launch of the job the trainer was ({@link TrainingBackend#launch}), where the
 *                 backend can tell; an end of an earlier launch than the job's latest is stale
 */
public record TrainerExit(String jobId, Outcome outcome, Integer exitCode, String reason, Integer attempt) {

    /** The exit code of a process ended by SIGTERM that did not handle it (128 + 15). */
    public static final int KILLED_BY_SIGTERM = 143;

    /** An end whose launch the backend cannot tell. */
    public TrainerExit(String jobId, Outcome outcome, Integer exitCode, String reason) {
        this(jobId, outcome, exitCode, reason, null);
    }

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
