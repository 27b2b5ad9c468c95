package dev.mlinfra.commons.outbox;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** The transactional outbox relay of a service. */
@ConfigMapping(prefix = "mlinfra.outbox")
public interface OutboxConfig {

    /** Whether this application relays its outbox to Kafka (off where nothing publishes, e.g. the gateway). */
    @WithDefault("true")
    boolean enabled();

    /** How often the relay looks for unpublished events. */
    @WithDefault("PT0.5S")
    Duration pollInterval();

    /** Events published per round. */
    @WithDefault("100")
    int batchSize();

    /** How long one publication may take before the round stops and the event waits for the next. */
    @WithDefault("PT10S")
    Duration publishTimeout();

    /** How long published events are kept before they are deleted. */
    @WithDefault("P7D")
    Duration retention();
}
