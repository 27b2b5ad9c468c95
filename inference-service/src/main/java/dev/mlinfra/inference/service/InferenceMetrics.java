package dev.mlinfra.inference.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;

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

    private final MeterRegistry registry;

    public InferenceMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    public void request(String modelType, String backend, Outcome outcome, Duration latency) {
        Counter.builder("mlinfra.inference.requests").description("Inference requests by how they ended")
                .tags("model_type", modelType, "backend", backend, "outcome", outcome.tag).register(registry).increment();
        Timer.builder("mlinfra.inference.latency").description("Time from an inference request to its last token")
                .tags("model_type", modelType, "backend", backend, "outcome", outcome.tag)
                .publishPercentileHistogram().register(registry).record(latency);
    }

    public void tokens(String modelType, String backend, long tokens) {
        Counter.builder("mlinfra.inference.tokens.generated").description("Tokens generated")
                .tags("model_type", modelType, "backend", backend).register(registry).increment(tokens);
    }

    public void firstToken(String modelType, String backend, Duration sinceRequest) {
        Timer.builder("mlinfra.inference.time.to.first.token").description("Time from a request to its first token")
                .tags("model_type", modelType, "backend", backend).publishPercentileHistogram().register(registry)
                .record(sinceRequest);
    }
}
