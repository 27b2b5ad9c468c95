package dev.mlinfra.infra.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The MLflow Model Registry mirror, when registry-service has one configured
 * ({@code /internal/v1/registry/mlflow-mirror}): MLflow itself is asked for {@code /health} and
 * {@code /version}; the mirror's lag, counts of mirrored events and failed attempts, and its last failure
 * come from registry-service. No entry when the mirror is off (the component is not in use).
 */
@Singleton
public class MlflowProbe extends PeerProbe {

    static final String SERVICE = "registry_service";
    static final String KEY = "mlflow";

    private volatile boolean inUse;

    public MlflowProbe(HttpProbe http, ServicesProbe services, ObjectMapper json) {
        super(SERVICE, http, services, json);
    }

    @Override
    protected Uni<List<Entry>> probe(String url, Map<String, String> forwarded, Duration timeout) {
        Duration half = timeout.dividedBy(2);
        return http.get(url, "/internal/v1/registry/mlflow-mirror", forwarded, half)
                .flatMap(answer -> {
                    JsonNode mirror = tree(answer);
                    inUse = answer.status() == 200 && mirror.path("enabled").asBoolean(false);
                    if (!inUse) {
                        return Uni.createFrom().item(List.<Entry>of());
                    }
                    String mlflow = mirror.path("url").asText();
                    Uni<HttpProbe.Answer> health = http.get(mlflow, "/health", Map.of(), half);
                    Uni<String> version = http.get(mlflow, "/version", Map.of(), half)
                            .map(a -> a.status() == 200 ? a.body().trim() : null).onFailure().recoverWithNull();
                    return Uni.combine().all().unis(health, version).asTuple()
                            .map(t -> (t.getItem1().status() == 200 ? ComponentStatus.healthy(t.getItem2())
                                    : ComponentStatus.unhealthy("/health answered HTTP " + t.getItem1().status()))
                                    .with("latency_ms", t.getItem1().latencyMs()))
                            .onFailure().recoverWithItem(e -> ComponentStatus.unhealthy(HttpProbe.reason(e)))
                            .map(s -> List.of(new Entry(KEY, s.withInternal("endpoint", mlflow)
                                    .with("mirror_lag_seconds", number(mirror.path("lag_seconds")))
                                    .with("mirrored", json.convertValue(mirror.path("mirrored"), Map.class))
                                    .with("failures", json.convertValue(mirror.path("failures"), Map.class))
                                    .withInternal("last_failure", json.convertValue(mirror.path("last_failure"), Map.class)),
                                    false)));
                })
                // registry-service's own entry says why it did not answer; whether MLflow is in use is unknown then
                .onFailure().recoverWithItem(List.of());
    }

    private static Double number(JsonNode n) {
        return n.isNumber() ? n.asDouble() : null;
    }

    @Override
    public Map<String, Boolean> keys() {
        return inUse ? Map.of(KEY, false) : Map.of();
    }

    @Override
    public Set<String> names() {
        return Set.of(KEY);
    }
}
