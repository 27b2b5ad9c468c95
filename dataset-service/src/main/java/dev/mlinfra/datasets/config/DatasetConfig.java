package dev.mlinfra.datasets.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

@ConfigMapping(prefix = "mlinfra.datasets")
public interface DatasetConfig {

    /** How long an upload URL waits for its file before the dataset fails. */
    @WithDefault("PT1H")
    Duration uploadExpiry();

    /**
     * How often a service that receives an upload tells the database it is still at it. An upload
     * whose heartbeat stops (its service crashed or was killed) fails after {@link #stallTimeout()}.
     */
    @WithDefault("PT15S")
    Duration heartbeatInterval();

    /** An upload without a heartbeat for this long was interrupted: the sweeper fails it and removes what it stored. */
    @WithDefault("PT2M")
    Duration stallTimeout();

    /** How often abandoned uploads and interrupted deletions are cleaned up (the sweeper's schedule reads it). */
    @WithDefault("30s")
    String sweepInterval();

    /**
     * A deletion that its request did not finish (its service stopped, or the object store was away)
     * is finished by the sweeper once it is this old.
     */
    @WithDefault("PT1M")
    Duration deletionGrace();

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

    /** Kafka topic of training-service's job events (read to know which datasets open jobs use). */
    @WithDefault("mlinfra.training")
    String trainingTopic();
}
