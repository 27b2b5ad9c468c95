package dev.mlinfra.infra.service;

import java.time.Instant;
import java.util.Map;

/**
 * The platform's usage at one time: figures in percent (a metric without one is absent), the number of
 * GPUs, and when it was read (null: no reading yet).
 */
public record Usage(Map<Metric, Double> figures, int gpus, Instant at) {

    /** No reading. */
    public static final Usage NONE = new Usage(Map.of(), 0, null);
}
