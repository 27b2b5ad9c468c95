package dev.mlinfra.inference.backend;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * The circuit breaker of one server: after {@code failures} failed calls in a row it opens and
 * refuses calls for {@code open}; then one call is let through, and its outcome closes or reopens it.
 */
final class Circuit {

    private final int failures;
    private final Duration open;
    private final Clock clock;
    private int failed;
    private Instant openUntil;
    private boolean trial;

    Circuit(int failures, Duration open, Clock clock) {
        this.failures = failures;
        this.open = open;
        this.clock = clock;
    }

    /** Whether a call may go out now. */
    synchronized boolean allow() {
        if (openUntil == null) {
            return true;
        }
        if (clock.instant().isBefore(openUntil) || trial) {
            return false;
        }
        trial = true;
        return true;
    }

    synchronized void succeeded() {
        failed = 0;
        openUntil = null;
        trial = false;
    }

    /** Records a failure; true when it opened the circuit. */
    synchronized boolean failed() {
        failed++;
        boolean wasOpen = openUntil != null;
        if (trial || failed >= failures) {
            openUntil = clock.instant().plus(open);
            trial = false;
            return !wasOpen;
        }
        return false;
    }

    synchronized boolean isOpen() {
        return openUntil != null && clock.instant().isBefore(openUntil);
    }
}
