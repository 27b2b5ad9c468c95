package dev.mlinfra.infra.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.error.ApiException;
import dev.mlinfra.infra.config.InfraConfig;
import dev.mlinfra.infra.probe.HostUsage;
import dev.mlinfra.infra.probe.HttpProbe;
import dev.mlinfra.infra.service.Metric;
import dev.mlinfra.infra.service.MetricsHistory;
import dev.mlinfra.infra.service.Period;
import dev.mlinfra.infra.service.Usage;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * The metrics history from Prometheus ({@code /api/v1/query_range}): per metric the configured query,
 * averaged over each interval ({@code avg_over_time} of a subquery) and evaluated at each interval's end;
 * points are labelled with the interval's start, as the local history labels them. Steps where the query
 * has no value have no point.
 */
@ApplicationScoped
public class PrometheusHistory implements MetricsHistory {

    private static final Logger LOG = Logger.getLogger(PrometheusHistory.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final HttpProbe http;
    private final ObjectMapper json;
    private final InfraConfig.Prometheus config;
    /**
     * Why each of the status' queries failed last, while it fails: a query that fails on every status
     * call is logged when it starts failing and when its reason changes, not on every call.
     */
    private final Map<String, String> failing = new ConcurrentHashMap<>();

    public PrometheusHistory(HttpProbe http, ObjectMapper json, InfraConfig config) {
        this.http = http;
        this.json = json;
        this.config = config.prometheus();
    }

    @Override
    public Uni<Map<Metric, List<Point>>> series(String component, Set<Metric> metrics, Period period, Instant now) {
        String url = config.url().orElseThrow();
        long step = period.interval.toSeconds();
        long first = Math.floorDiv(now.minus(period.length).getEpochSecond(), step) * step;
        // evaluated at each interval's end: the average over the interval before it
        long start = first + step;
        long end = Math.floorDiv(now.getEpochSecond(), step) * step + step;
        List<Uni<Map.Entry<Metric, List<Point>>>> queries = new ArrayList<>();
        for (Metric metric : metrics) {
            String query = query(component, metric);
            if (query == null || query.isBlank()) {
                queries.add(Uni.createFrom().item(Map.entry(metric, List.of())));
                continue;
            }
            String averaged = averaged(query, period);
            String path = "/api/v1/query_range?query=" + URLEncoder.encode(averaged, StandardCharsets.UTF_8)
                    + "&start=" + start + "&end=" + end + "&step=" + step;
            queries.add(http.get(url, path, Map.of(), TIMEOUT)
                    .map(answer -> Map.entry(metric, points(answer, step)))
                    .onFailure(e -> !(e instanceof ApiException))
                    .transform(e -> {
                        LOG.warnf("Prometheus at %s failed: %s", url, HttpProbe.reason(e));
                        return ApiException.badGateway("Prometheus, which holds the metrics history, did not answer: "
                                + HttpProbe.reason(e));
                    }));
        }
        return Uni.join().all(queries).andFailFast().map(entries -> {
            Map<Metric, List<Point>> series = new EnumMap<>(Metric.class);
            entries.forEach(e -> series.put(e.getKey(), e.getValue()));
            return series;
        });
    }

    /**
     * The platform's usage as Prometheus has it at {@code at} ({@code /api/v1/query}): each metric's
     * query (the average of its series), and the number of GPUs (the sum of its series). A metric
     * without a query, without a value, or whose query fails has no figure (the failure is logged); no
     * GPU count is 0. When no query is answered at all there is no reading ({@link Usage#NONE}). Never fails.
     * A failing query is logged as a warning when it starts failing or fails for another reason, and
     * once more when it answers again.
     */
    public Uni<Usage> current(Instant at, Duration timeout) {
        String url = config.url().orElseThrow();
        List<Uni<Figure>> queries = new ArrayList<>();
        for (Metric metric : Metric.values()) {
            String query = config.queries().get(metric.value);
            if (query != null && !query.isBlank()) {
                queries.add(instant(url, metric, query, false, at, timeout));
            }
        }
        if (!config.gpuCount().isBlank()) {
            queries.add(instant(url, null, config.gpuCount(), true, at, timeout));
        }
        if (queries.isEmpty()) {
            return Uni.createFrom().item(new Usage(Map.of(), 0, at));
        }
        return Uni.join().all(queries).andFailFast().map(answers -> {
            if (answers.stream().noneMatch(Figure::answered)) {
                return Usage.NONE;
            }
            Map<Metric, Double> figures = new EnumMap<>(Metric.class);
            int gpus = 0;
            for (Figure f : answers) {
                if (f.value() == null) {
                    continue;
                }
                if (f.metric() == null) {
                    gpus = (int) Math.round(f.value());
                } else {
                    figures.put(f.metric(), f.value());
                }
            }
            return new Usage(figures, gpus, at);
        });
    }

    /** An instant query's figure: whether Prometheus answered it, and its value (null: none). */
    private record Figure(Metric metric, boolean answered, Double value) {
    }

    /**
     * An instant query at {@code at}: the average of its series' values, or their sum; a scalar as it is.
     * Values Prometheus cannot give (NaN, infinities) are left out.
     */
    private Uni<Figure> instant(String url, Metric metric, String query, boolean sum, Instant at, Duration timeout) {
        String path = "/api/v1/query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8) + "&time=" + at.getEpochSecond();
        return http.get(url, path, Map.of(), timeout).map(answer -> {
            JsonNode data = data(answer);
            List<JsonNode> samples = new ArrayList<>();
            switch (data.path("resultType").asText()) {
                case "scalar" -> samples.add(data.path("result"));
                case "vector" -> data.path("result").forEach(series -> samples.add(series.path("value")));
                default -> throw new IllegalStateException("the query yields a " + data.path("resultType").asText()
                        + ", not a number per series");
            }
            double total = 0;
            int n = 0;
            for (JsonNode sample : samples) {
                double value = value(sample.path(1).asText("NaN"));
                if (!Double.isNaN(value)) {
                    total += value;
                    n++;
                }
            }
            if (failing.remove(query) != null) {
                LOG.infof("Prometheus at %s answers %s again", url, query);
            }
            return new Figure(metric, true, n == 0 ? null : sum ? total : total / n);
        }).onFailure().recoverWithItem(e -> {
            String reason = HttpProbe.reason(e);
            if (reason.equals(failing.put(query, reason))) {
                LOG.debugf("Still no figure for %s from Prometheus at %s: %s", query, url, reason);
            } else {
                LOG.warnf("No figure for %s from Prometheus at %s: %s (not logged again until the reason changes)",
                        query, url, reason);
            }
            return new Figure(metric, false, null);
        });
    }

    /**
     * The query averaged over each interval: a subquery with an explicit resolution (a thirtieth of the
     * interval, at least 15 s, a common scrape interval), so the average does not depend on the server's
     * evaluation interval. The interval in progress is evaluated at its end, where Prometheus carries the
     * latest sample forward: its point weighs that sample more until the interval is over.
     */
    public static String averaged(String query, Period period) {
        long resolution = Math.max(15, period.interval.toSeconds() / 30);
        return "avg_over_time((" + query + ")[" + period.intervalName + ":" + resolution + "s])";
    }

    private String query(String component, Metric metric) {
        if (HostUsage.HOST.equals(component)) {
            return config.queries().get(metric.value);
        }
        String template = config.componentQueries().get(metric.value);
        return template == null ? null : componentQuery(template, component, config.containers());
    }

    /** A component's query: its status key and the name of its container filled in. */
    static String componentQuery(String template, String component, Map<String, String> containers) {
        return template.replace("{component}", component)
                .replace("{container}", containers.getOrDefault(component, component.replace('_', '-')));
    }

    /** The {@code data} of a query's answer; a 502 naming Prometheus' reason when it refused the query. */
    private JsonNode data(HttpProbe.Answer answer) {
        JsonNode body = HttpProbe.tree(json, answer.body());
        if (answer.status() != 200 || !"success".equals(body.path("status").asText())) {
            throw ApiException.badGateway("Prometheus refused the query (HTTP " + answer.status() + "): "
                    + body.path("error").asText(answer.body()));
        }
        return body.path("data");
    }

    private List<Point> points(HttpProbe.Answer answer, long step) {
        List<Point> points = new ArrayList<>();
        JsonNode result = data(answer).path("result");
        // a query that yields several series (not summed) is averaged per timestamp
        Map<Long, double[]> sums = new TreeMap<>();
        for (JsonNode series : result) {
            for (JsonNode v : series.path("values")) {
                double value = value(v.get(1).asText());
                if (!Double.isNaN(value)) {
                    double[] s = sums.computeIfAbsent(v.get(0).asLong(), k -> new double[2]);
                    s[0] += value;
                    s[1]++;
                }
            }
        }
        sums.forEach((t, s) -> points.add(new Point(Instant.ofEpochSecond(t - step), s[0] / s[1])));
        return points;
    }

    /** A sample's value as Prometheus writes it; NaN for the values no history shows: NaN, +Inf and -Inf (a ratio over zero). */
    private static double value(String text) {
        return switch (text) {
            case "NaN", "+Inf", "-Inf", "Inf" -> Double.NaN;
            default -> Double.parseDouble(text);
        };
    }
}
