package dev.mlinfra.commons.events;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** How consumers take in events ({@link EventInbox}). */
@ConfigMapping(prefix = "mlinfra.events")
public interface EventsConfig {

    /** Retries of an event whose effect could not be applied (the database is away): until it succeeds. */
    Retry retry();

    interface Retry {

        /** Wait before the first retry. */
        @WithDefault("PT0.2S")
        Duration initialBackoff();

        /** Longest wait between two retries (the wait doubles up to it). */
        @WithDefault("PT10S")
        Duration maxBackoff();
    }
}
