package dev.mlinfra.modelserver.service;

/**
 * A generation stopped, or never started, because its client went away: there is nobody left to
 * answer. {@link BatchScheduler} has already logged it.
 */
public final class ClientGoneException extends RuntimeException {

    private final int tokens;

    ClientGoneException(int tokens) {
        super("client went away after " + tokens + " generated tokens", null, false, false);
        this.tokens = tokens;
    }

    /** Tokens generated before the generation stopped. */
    public int tokens() {
        return tokens;
    }
}
