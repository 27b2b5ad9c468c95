package dev.mlinfra.registry.mirror;

import dev.mlinfra.commons.events.ModelEvents;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The mirror in {@code /q/metrics}:
 * <ul>
 * <li>{@code mlinfra.registry.mlflow.mirrored} (counter, tag {@code type}): events applied to MLflow;</li>
 * <li>{@code mlinfra.registry.mlflow.failures} (counter, tag {@code kind}): {@code retried}, an attempt
 * that failed and is tried again (MLflow or the database away, a timeout), or {@code rejected}, an
 * event MLflow refused for good and that the mirror passed over;</li>
 * <li>{@code mlinfra.registry.mlflow.lag} (gauge, seconds): the age of the oldest event not yet
 * mirrored, that is of the event being applied (events are applied one after the other), and 0
 * when the mirror has caught up. An age rather than "time since the newest mirrored event": a quiet
 * registry would look late by the latter, while this one grows only while an event waits, e.g.
 * for MLflow to come back.</li>
 * </ul>
 */
@ApplicationScoped
public class MirrorMetrics {

    static final String MIRRORED = "mlinfra.registry.mlflow.mirrored";
    static final String FAILURES = "mlinfra.registry.mlflow.failures";
    static final String LAG = "mlinfra.registry.mlflow.lag";
    private static final List<String> TYPES = List.of(ModelEvents.REGISTERED, ModelEvents.STAGE_CHANGED, ModelEvents.DELETED);

    private final MeterRegistry registry;
    private final List<Meter> meters = new ArrayList<>();
    private final Map<String, Counter> mirrored;
    private final Counter retried;
    private final Counter rejected;
    /** The last failed attempt, null before the first. */
    private final AtomicReference<Failure> lastFailure = new AtomicReference<>();
    /** The time of the event being applied, null while none is. */
    private final AtomicReference<Instant> pendingSince = new AtomicReference<>();
    private final Clock clock = Clock.systemUTC();

    public MirrorMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.mirrored = TYPES.stream().collect(Collectors.toUnmodifiableMap(Function.identity(),
                type -> kept(Counter.builder(MIRRORED).description("Model events applied to the MLflow Model Registry")
                        .tag("type", type).register(registry))));
        this.retried = failures("retried");
        this.rejected = failures("rejected");
        kept(Gauge.builder(LAG, this, MirrorMetrics::lagSeconds)
                .description("Age of the oldest model event not yet mirrored to MLflow; 0 when the mirror has caught up")
                .baseUnit("seconds").strongReference(true).register(registry));
    }

    private Counter failures(String kind) {
        return kept(Counter.builder(FAILURES).description("Attempts to mirror a model event to MLflow that failed")
                .tag("kind", kind).register(registry));
    }

    private <M extends Meter> M kept(M meter) {
        meters.add(meter);
        return meter;
    }

    /**
     * Takes the meters away with the bean: a registry that outlives the application (the global one,
     * when tests start the application again in one JVM) would otherwise keep reading this instance.
     */
    @PreDestroy
    void unregister() {
        meters.forEach(registry::remove);
    }

    /** An event is being applied from now until {@link #caughtUp()}. */
    void applying(Instant eventTime) {
        pendingSince.set(eventTime == null ? clock.instant() : eventTime);
    }

    void caughtUp() {
        pendingSince.set(null);
    }

    void mirrored(String type) {
        Counter counter = mirrored.get(type);
        if (counter != null) {
            counter.increment();
        }
    }

    void retried(Throwable cause) {
        retried.increment();
        lastFailure.set(new Failure(clock.instant(), "retried", describe(cause)));
    }

    void rejected(Throwable cause) {
        rejected.increment();
        lastFailure.set(new Failure(clock.instant(), "rejected", describe(cause)));
    }

    /** A failed attempt to mirror an event: when, its kind (retried or rejected), and why. */
    public record Failure(Instant at, String kind, String reason) {
    }

    /** What the mirror has done so far, for the status of the platform. */
    public record Snapshot(double lagSeconds, Map<String, Long> mirrored, Map<String, Long> failures, Failure lastFailure) {
    }

    public Snapshot snapshot() {
        Map<String, Long> applied = new java.util.TreeMap<>();
        mirrored.forEach((type, counter) -> applied.put(type, (long) counter.count()));
        return new Snapshot(lagSeconds(), applied, Map.of("retried", (long) retried.count(), "rejected", (long) rejected.count()),
                lastFailure.get());
    }

    private static String describe(Throwable e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    double lagSeconds() {
        Instant since = pendingSince.get();
        if (since == null) {
            return 0;
        }
        return Math.max(0, Duration.between(since, clock.instant()).toMillis() / 1000.0);
    }
}
