package dev.mlinfra.infra.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.infra.config.InfraConfig;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The platform's own services: each one's {@code /q/health} (its readiness checks: database, Kafka, ...)
 * and its build version from {@code /q/info}, both on its management interface. infra-service itself answers this request, so it reports
 * its own version without a round trip.
 */
@ApplicationScoped
public class ServicesProbe implements ComponentProbe {

    static final String SELF = "infra_service";

    private final HttpProbe http;
    private final ObjectMapper json;
    private final Map<String, InfraConfig.Service> services;
    private final String version;

    public ServicesProbe(HttpProbe http, ObjectMapper json, InfraConfig config,
            @ConfigProperty(name = "quarkus.application.version") String version) {
        this.http = http;
        this.json = json;
        this.services = new TreeMap<>(config.services());
        this.version = version;
    }

    @Override
    public Uni<List<Entry>> probe(Map<String, String> forwarded, Duration timeout) {
        List<Uni<Entry>> probes = new ArrayList<>();
        services.forEach((key, service) -> probes.add(one(key, service.url(), service.managementUrl().orElse(service.url()), timeout)));
        Entry self = new Entry(SELF, ComponentStatus.healthy(version), false);
        if (probes.isEmpty()) {
            return Uni.createFrom().item(List.of(self));
        }
        return Uni.join().all(probes).andFailFast().map(entries -> {
            List<Entry> all = new ArrayList<>(entries);
            all.add(self);
            return all;
        });
    }

    private Uni<Entry> one(String key, String url, String management, Duration timeout) {
        Uni<HttpProbe.Answer> health = http.get(management, "/q/health", Map.of(), timeout);
        Uni<String> build = http.get(management, "/q/info", Map.of(), timeout)
                .map(a -> a.status() == 200 ? HttpProbe.tree(json, a.body()).path("build").path("version").asText(null) : null)
                .onFailure().recoverWithNull();
        return Uni.combine().all().unis(health, build).asTuple()
                .map(t -> {
                    HttpProbe.Answer answer = t.getItem1();
                    ComponentStatus s = answer.status() == 200 ? ComponentStatus.healthy(t.getItem2())
                            : ComponentStatus.unhealthy(downChecks(answer)).with("version", t.getItem2());
                    return s.with("latency_ms", answer.latencyMs());
                })
                .onFailure().recoverWithItem(e -> ComponentStatus.unhealthy(HttpProbe.reason(e)))
                .map(s -> new Entry(key, s.withInternal("endpoint", url), false));
    }

    /** "not ready: database, kafka" from a health answer's failing checks. */
    private String downChecks(HttpProbe.Answer answer) {
        List<String> down = new ArrayList<>();
        for (JsonNode check : HttpProbe.tree(json, answer.body()).path("checks")) {
            if (!"UP".equals(check.path("status").asText())) {
                down.add(check.path("name").asText());
            }
        }
        return down.isEmpty() ? "health answered HTTP " + answer.status() : "not ready: " + String.join(", ", down);
    }


    @Override
    public Map<String, Boolean> keys() {
        Map<String, Boolean> keys = new LinkedHashMap<>();
        services.keySet().forEach(k -> keys.put(k, false));
        keys.put(SELF, false);
        return keys;
    }

    /** The base URL of a service by status key; null when it is not configured. */
    public String url(String key) {
        InfraConfig.Service s = services.get(key);
        return s == null ? null : s.url();
    }
}
