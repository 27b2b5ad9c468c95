package dev.mlinfra.infra.service;

import dev.mlinfra.commons.error.ApiException;
import dev.mlinfra.infra.client.PrometheusHistory;
import dev.mlinfra.infra.config.InfraConfig;
import dev.mlinfra.infra.probe.HostUsage;
import dev.mlinfra.infra.repository.MetricSampleRepository;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The metrics history: parameters checked against what exists, then read from Prometheus when
 * {@code mlinfra.infra.prometheus.url} is set, else from the samples in the service's database.
 */
@ApplicationScoped
public class MetricsService {

    public record History(Map<Metric, List<MetricsHistory.Point>> series, Period period, String component) {
    }

    private final MetricsHistory source;
    private final StatusService status;

    public MetricsService(MetricSampleRepository stored, PrometheusHistory prometheus, StatusService status, InfraConfig config) {
        this.source = config.prometheus().url().isPresent() ? prometheus : stored;
        this.status = status;
    }

    /** Absent parameters: the platform as a whole, every metric, the last hour. */
    public Uni<History> history(String component, String metric, String period) {
        Period p = period == null || period.isBlank() ? Period.HOUR : Period.of(period);
        if (p == null) {
            throw ApiException.badRequest("Invalid period '" + period + "': allowed values are " + Period.allowed());
        }
        Set<Metric> metrics;
        if (metric == null || metric.isBlank()) {
            metrics = EnumSet.allOf(Metric.class);
        } else {
            Metric m = Metric.of(metric);
            if (m == null) {
                throw ApiException.badRequest("Invalid metric '" + metric + "': allowed values are " + Metric.allowed());
            }
            metrics = EnumSet.of(m);
        }
        String key = HostUsage.HOST;
        if (component != null && !component.isBlank()) {
            Set<String> known = status.componentKeys();
            if (!known.contains(component)) {
                throw ApiException.badRequest("Invalid component '" + component + "': allowed values are "
                        + String.join(", ", known) + " (or none for the platform as a whole)");
            }
            key = component;
        }
        String shown = component == null || component.isBlank() ? null : component;
        return source.series(key, metrics, p, Instant.now()).map(series -> new History(series, p, shown));
    }
}
