package dev.mlinfra.datasets.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

@ConfigMapping(prefix = "mlinfra.datasets")
public interface DatasetConfig {

    /** How long an upload URL waits for its file before the dataset fails. */
    @WithDefault("PT1H")
    Duration uploadExpiry();

    /** A receiving or validating upload with no progress for this long was interrupted (the service stopped). */
    @WithDefault("PT30M")
    Duration stallTimeout();

    /** How often abandoned uploads and interrupted deletions are cleaned up. */
    @WithDefault("30s")
    String sweepInterval();

    /** How long an upload in progress may send nothing before it counts as interrupted. */
    @WithDefault("PT2M")
    Duration uploadIdleTimeout();

    /** Longest string value a record may hold, in characters. */
    @WithDefault("1048576")
    int maxStringLength();

    /** How many validation errors a failed dataset lists in detail (all are counted). */
    @WithDefault("20")
    int reportedErrors();

    /** Kafka topic of dataset events. */
    @WithDefault("mlinfra.datasets")
    String topic();
}
