package dev.mlinfra.engine.train;

/** Asks a running job to stop at the next step boundary. */
public final class CancellationToken {

    private volatile boolean cancelled;

    public void cancel() {
        cancelled = true;
    }

    public boolean isCancelled() {
        return cancelled;
    }
}
