package dev.mlinfra.infra.service;

import io.smallrye.mutiny.Uni;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where the metrics history comes from: the service's own database (sampled here), or Prometheus in a
 * cluster. Either way one point per interval of the period, the interval's average, labelled with the
 * interval's start; intervals without samples have no point.
 */
public interface MetricsHistory {

    /** A point of a series. */
    record Point(Instant timestamp, double value) {
    }

    /** {@code component} is a status key, or {@link dev.mlinfra.infra.probe.HostUsage#HOST} for the platform. */
    Uni<Map<Metric, List<Point>>> series(String component, Set<Metric> metrics, Period period, Instant now);
}
