package dev.mlinfra.infra.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The serving backend: inference-service names its servers ({@code /internal/v1/inference/servers}), and
 * each server is asked itself, as the vLLM/OpenAI server API allows: {@code /v1/models} (what it serves)
 * and {@code /version}. KServe reports under {@code kserve}; any other backend under {@code serving_backend}.
 * Healthy when every server answers (or none is needed yet), unhealthy when none does, else degraded.
 */
@Singleton
public class ServingBackendProbe extends PeerProbe {

    static final String SERVICE = "inference_service";
    static final String KSERVE_KEY = "kserve";
    static final String GENERIC_KEY = "serving_backend";

    private volatile String key = GENERIC_KEY;

    public ServingBackendProbe(HttpProbe http, ServicesProbe services, ObjectMapper json) {
        super(SERVICE, http, services, json);
    }

    @Override
    protected Uni<List<Entry>> probe(String url, Map<String, String> forwarded, Duration timeout) {
        // half the time to learn the servers, half to ask them: a hung server still gets its own entry
        Duration half = timeout.dividedBy(2);
        return http.get(url, "/internal/v1/inference/servers", forwarded, half)
                .flatMap(answer -> {
                    if (answer.status() != 200) {
                        return Uni.createFrom().item(ComponentStatus.unhealthy("inference-service answered HTTP " + answer.status()));
                    }
                    JsonNode list = tree(answer);
                    String backend = list.path("backend").asText(null);
                    key = "kserve".equals(backend) ? KSERVE_KEY : GENERIC_KEY;
                    List<Uni<Map<String, Object>>> servers = new ArrayList<>();
                    list.path("servers").forEach(s -> servers.add(server(s, half)));
                    if (servers.isEmpty()) {
                        return Uni.createFrom().item(ComponentStatus.healthy(null).with("backend", backend)
                                .withInternal("servers", List.of()).with("note", "no model is served yet"));
                    }
                    return Uni.join().all(servers).andFailFast().map(views -> combined(backend, views));
                })
                .onFailure().recoverWithItem(e -> ComponentStatus.unhealthy("inference-service: " + HttpProbe.reason(e)))
                .map(s -> List.of(new Entry(key, s, false)));
    }

    private static ComponentStatus combined(String backend, List<Map<String, Object>> servers) {
        long healthy = servers.stream().filter(s -> "healthy".equals(s.get("status"))).count();
        ComponentStatus.Health health = healthy == servers.size() ? ComponentStatus.Health.HEALTHY
                : healthy == 0 ? ComponentStatus.Health.UNHEALTHY : ComponentStatus.Health.DEGRADED;
        List<Object> versions = servers.stream().map(s -> s.get("version")).filter(Objects::nonNull).distinct().toList();
        ComponentStatus s = ComponentStatus.of(health).with("version", versions.size() == 1 ? versions.get(0) : null)
                .with("backend", backend);
        if (health != ComponentStatus.Health.HEALTHY) {
            s.with("reason", (servers.size() - healthy) + " of " + servers.size() + " servers not answering");
        }
        return s.withInternal("servers", servers);
    }

    private Uni<Map<String, Object>> server(JsonNode s, Duration timeout) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("model_type", s.path("model_type").asText(null));
        view.put("endpoint", s.path("url").asText(null));
        view.put("state", s.path("state").asText(null));
        String url = s.path("url").asText(null);
        if (url == null) {
            view.put("status", "unhealthy");
            view.put("reason", "not started (" + s.path("state").asText("unknown") + ")");
            return Uni.createFrom().item(view);
        }
        Uni<HttpProbe.Answer> models = http.get(url, "/v1/models", Map.of(), timeout);
        Uni<String> version = http.get(url, "/version", Map.of(), timeout)
                .map(a -> a.status() == 200 ? tree(a).path("version").asText(null) : null)
                .onFailure().recoverWithNull();
        return Uni.combine().all().unis(models, version).asTuple()
                .map(t -> {
                    HttpProbe.Answer a = t.getItem1();
                    if (a.status() == 200) {
                        view.put("status", "healthy");
                        view.put("version", t.getItem2());
                        List<String> ids = new ArrayList<>();
                        tree(a).path("data").forEach(m -> ids.add(m.path("id").asText()));
                        view.put("models", ids);
                    } else {
                        view.put("status", "unhealthy");
                        view.put("reason", "/v1/models answered HTTP " + a.status());
                    }
                    view.put("latency_ms", a.latencyMs());
                    return view;
                })
                .onFailure().recoverWithItem(e -> {
                    view.put("status", "unhealthy");
                    view.put("reason", HttpProbe.reason(e));
                    return view;
                });
    }

    @Override
    public Map<String, Boolean> keys() {
        return !configured() ? Map.of() : Map.of(key, false);
    }

    @Override
    public Set<String> names() {
        return !configured() ? Set.of() : Set.of(GENERIC_KEY, KSERVE_KEY);
    }
}
