package dev.mlinfra.infra.rest;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.mlinfra.infra.probe.ComponentStatus;
import dev.mlinfra.infra.service.Metric;
import dev.mlinfra.infra.service.MetricsService;
import dev.mlinfra.infra.service.StatusService;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** The API records of {@code /v1/infrastructure}. */
public final class InfrastructureViews {

    private InfrastructureViews() {
    }

    private static final String NO_READING = "e.g. 45%; null before its first reading";

    public record StatusView(ComponentStatus.Health status, Map<String, ComponentStatus> components, ResourcesView resources,
            Instant checkedAt) {
    }

    /**
     * Usage as percentage strings like {@code "45%"}. {@code gpu_usage} is null where the machine has no GPU
     * ({@code gpus: 0}); the ledger's allocation is beside it. Figures without a reading yet are null.
     */
    public record ResourcesView(
            @JsonInclude(JsonInclude.Include.ALWAYS) @Schema(nullable = true, description = NO_READING) String cpuUsage,
            @JsonInclude(JsonInclude.Include.ALWAYS) @Schema(nullable = true, description = NO_READING) String memoryUsage,
            @JsonInclude(JsonInclude.Include.ALWAYS)
            @Schema(nullable = true, description = "e.g. 45%; null where the machine has no GPU or before its first reading")
            String gpuUsage,
            @JsonInclude(JsonInclude.Include.ALWAYS) @Schema(nullable = true, description = NO_READING) String storageUsage,
            int gpus, Long gpuAllocated, Long gpuQueueLength, List<GpuViews.PoolView> gpuPools, Instant sampledAt) {
    }

    public record PointView(Instant timestamp, double value) {
    }

    public record MetricsView(Map<String, List<PointView>> metrics, String period, String interval, String component) {
    }

    /** The status as {@code operator} (an admin key) sees it; anyone else sees it without the components' internal fields. */
    public static StatusView of(StatusService.Status s, boolean operator) {
        Map<String, ComponentStatus> components = new LinkedHashMap<>();
        s.components().forEach((key, c) -> components.put(key, c.forOperators(operator)));
        StatusService.Resources r = s.resources();
        Map<Metric, Double> u = r.usage();
        List<GpuViews.PoolView> pools = r.pools() == null ? null : GpuViews.pools(r.pools()).pools();
        return new StatusView(s.status(), components, new ResourcesView(percent(u.get(Metric.CPU)),
                percent(u.get(Metric.MEMORY)), percent(u.get(Metric.GPU)), percent(u.get(Metric.STORAGE)), r.gpus(),
                pools == null ? null : pools.stream().mapToLong(GpuViews.PoolView::allocated).sum(),
                pools == null ? null : pools.stream().mapToLong(GpuViews.PoolView::waiting).sum(),
                pools, r.sampledAt()), s.checkedAt());
    }

    private static String percent(Double value) {
        return value == null ? null : Math.round(value) + "%";
    }

    public static MetricsView of(MetricsService.History h) {
        Map<String, List<PointView>> metrics = new LinkedHashMap<>();
        h.series().forEach((metric, points) -> metrics.put(metric.key, points.stream()
                .map(p -> new PointView(p.timestamp(), round(p.value()))).toList()));
        return new MetricsView(metrics, h.period().value, h.period().intervalName, h.component());
    }

    /** One decimal: the figures are percentages of sampled values. */
    private static double round(double value) {
        return Math.round(value * 10) / 10.0;
    }

}
