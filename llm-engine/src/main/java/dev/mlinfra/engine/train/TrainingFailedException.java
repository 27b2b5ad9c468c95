package dev.mlinfra.engine.train;

/** The job cannot go on; the message is the reason a user sees. */
public final class TrainingFailedException extends RuntimeException {

    public TrainingFailedException(String message) {
        super(message);
    }

    public TrainingFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
