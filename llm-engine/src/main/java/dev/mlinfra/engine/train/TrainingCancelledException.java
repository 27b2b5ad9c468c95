package dev.mlinfra.engine.train;

/** The job stopped because it was asked to; a checkpoint of the last step was written. */
public final class TrainingCancelledException extends RuntimeException {

    private final int step;

    public TrainingCancelledException(int step, String message) {
        super(message);
        this.step = step;
    }

    /** The last step completed (and checkpointed). */
    public int step() {
        return step;
    }
}
