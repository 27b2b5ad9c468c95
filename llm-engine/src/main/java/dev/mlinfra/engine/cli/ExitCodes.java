package dev.mlinfra.engine.cli;

/** Process exit codes of the CLI. */
public final class ExitCodes {

    /** The command finished. */
    public static final int SUCCESS = 0;
    /** The job failed (bad data, divergence, I/O); the last stdout line says why. */
    public static final int FAILED = 1;
    /** The command line or the job spec is invalid. */
    public static final int USAGE = 2;
    /** The job was cancelled (SIGTERM/SIGINT) and left a checkpoint to resume from. */
    public static final int CANCELLED = 3;

    private ExitCodes() {
    }
}
