package dev.mlinfra.modelserver.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * The serving metrics vLLM exposes, under mlinfra's dotted names (Prometheus names in brackets, at
 * {@code /metrics}), tagged only with the base model's served name ({@code model_name}), never with
 * adapter names, so the number of series stays fixed:
 * <ul>
 * <li>{@code mlinfra.modelserver.num.requests.running} [{@code mlinfra_modelserver_num_requests_running}]
 * and {@code ...num.requests.waiting}: gauges of the continuous batch and of its queue
 * ({@code vllm:num_requests_running}, {@code vllm:num_requests_waiting});</li>
 * <li>{@code mlinfra.modelserver.time.to.first.token} [{@code ..._seconds} histogram]: from a
 * request's arrival to its first generated token, queueing and prefill included;</li>
 * <li>{@code mlinfra.modelserver.generation.tokens} and {@code ...prompt.tokens} [{@code ..._total}]:
 * counted as they are generated or prefilled;</li>
 * <li>{@code mlinfra.modelserver.iteration.tokens}: sequences decoded per step (the batch size);</li>
 * <li>{@code mlinfra.modelserver.requests} [{@code ..._total}] by {@code finished_reason}
 * ({@code stop}, {@code length}, {@code abort}: client gone or failed, {@code rejected}: queue full).</li>
 * </ul>
 */
@ApplicationScoped
public class ServingMetrics {

    private static final String PREFIX = "mlinfra.modelserver.";

    private final MeterRegistry registry;
    private String modelName = "unknown";
    private Timer firstToken;
    private Counter generationTokens;
    private Counter promptTokens;
    private DistributionSummary iterationTokens;

    public ServingMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Registers the meters of a base model; {@code running} and {@code waiting} are read at each scrape. */
    void register(String modelName, Supplier<Number> running, Supplier<Number> waiting) {
        this.modelName = modelName;
        Gauge.builder(PREFIX + "num.requests.running", running).description("Requests in the continuous batch")
                .tag("model_name", modelName).strongReference(true).register(registry);
        Gauge.builder(PREFIX + "num.requests.waiting", waiting).description("Requests waiting for a place in the batch")
                .tag("model_name", modelName).strongReference(true).register(registry);
        firstToken = Timer.builder(PREFIX + "time.to.first.token")
                .description("Time from a request's arrival to its first generated token")
                .tag("model_name", modelName).publishPercentileHistogram().register(registry);
        generationTokens = Counter.builder(PREFIX + "generation.tokens").description("Tokens generated")
                .tag("model_name", modelName).register(registry);
        promptTokens = Counter.builder(PREFIX + "prompt.tokens").description("Prompt tokens prefilled")
                .tag("model_name", modelName).register(registry);
        iterationTokens = DistributionSummary.builder(PREFIX + "iteration.tokens")
                .description("Sequences decoded together per decoding step").tag("model_name", modelName)
                .register(registry);
    }

    void firstToken(Duration sinceArrival) {
        firstToken.record(sinceArrival);
    }

    void generated(int tokens) {
        generationTokens.increment(tokens);
    }

    void prefilled(int tokens) {
        promptTokens.increment(tokens);
    }

    void step(int sequences) {
        iterationTokens.record(sequences);
    }

    void finished(String reason) {
        Counter.builder(PREFIX + "requests").description("Requests by how they ended")
                .tags("model_name", modelName, "finished_reason", reason).register(registry).increment();
    }
}
