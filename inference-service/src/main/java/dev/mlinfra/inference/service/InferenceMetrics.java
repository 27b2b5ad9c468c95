package dev.mlinfra.inference.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Inference in /q/metrics, tagged only with values of few kinds (model_type, backend, outcome), so
 * the number of series stays small however many models there are:
 * {@code mlinfra_inference_requests_total}, {@code mlinfra_inference_tokens_generated_total},
 * {@code mlinfra_inference_latency_seconds} and {@code mlinfra_inference_time_to_first_token_seconds}
 * (histograms).
 */
@ApplicationScoped
public class InferenceMetrics {

    /** How a request ended. */
    public enum Outcome {
        OK("ok"), CLIENT_ERROR("client_error"), UNAVAILABLE("unavailable"), BACKEND_ERROR("backend_error"),
        CANCELLED("cancelled");

        final String tag;

        Outcome(String tag) {
            this.tag = tag;
        }
    }

    private record Series(String modelType, String backend, Outcome outcome) {
    }

    private final MeterRegistry registry;
    /** Each series' meters, registered once: a request records into them without building a tag set. */
    private final Map<Series, Counter> requests = new ConcurrentHashMap<>();
    private final Map<Series, Timer> latencies = new ConcurrentHashMap<>();
    private final Map<Series, Counter> tokens = new ConcurrentHashMap<>();
    private final Map<Series, Timer> firstTokens = new ConcurrentHashMap<>();

    public InferenceMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    public void request(String modelType, String backend, Outcome outcome, Duration latency) {
        Series series = new Series(modelType, backend, outcome);
        requests.computeIfAbsent(series, s -> Counter.builder("mlinfra.inference.requests")
                .description("Inference requests by how they ended").tags(tags(s)).register(registry)).increment();
        latencies.computeIfAbsent(series, s -> Timer.builder("mlinfra.inference.latency")
                .description("Time from an inference request to its last token").tags(tags(s))
                .publishPercentileHistogram().register(registry)).record(latency);
    }

    public void tokens(String modelType, String backend, long count) {
        tokens.computeIfAbsent(new Series(modelType, backend, null), s -> Counter.builder("mlinfra.inference.tokens.generated")
                .description("Tokens generated").tags(tags(s)).register(registry)).increment(count);
    }

    public void firstToken(String modelType, String backend, Duration sinceRequest) {
        firstTokens.computeIfAbsent(new Series(modelType, backend, null), s -> Timer.builder("mlinfra.inference.time.to.first.token")
                .description("Time from a request to its first token").tags(tags(s)).publishPercentileHistogram()
                .register(registry)).record(sinceRequest);
    }

    private static Tags tags(Series s) {
        Tags tags = Tags.of("model_type", s.modelType(), "backend", s.backend());
        return s.outcome() == null ? tags : tags.and("outcome", s.outcome().tag);
    }
}
