package dev.mlinfra.infra.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The training backend, as training-service sees it ({@code /internal/v1/training/backend}): which one,
 * its version (the local trainer: the engine's) and whether it can start a trainer now. Kubeflow reports
 * under {@code kubeflow}; any other backend under {@code training_backend}.
 */
@ApplicationScoped
public class TrainingBackendProbe implements ComponentProbe {

    static final String SERVICE = "training_service";
    static final String GENERIC_KEY = "training_backend";

    private final HttpProbe http;
    private final ServicesProbe services;
    private final ObjectMapper json;
    private volatile String key = GENERIC_KEY;

    public TrainingBackendProbe(HttpProbe http, ServicesProbe services, ObjectMapper json) {
        this.http = http;
        this.services = services;
        this.json = json;
    }

    @Override
    public Uni<List<Entry>> probe(Map<String, String> forwarded, Duration timeout) {
        String url = services.url(SERVICE);
        if (url == null) {
            return Uni.createFrom().item(List.of());
        }
        return http.get(url, "/internal/v1/training/backend", forwarded, timeout)
                .map(answer -> {
                    if (answer.status() != 200) {
                        return ComponentStatus.unhealthy("training-service answered HTTP " + answer.status());
                    }
                    JsonNode b = HttpProbe.tree(json, answer.body());
                    String backend = b.path("backend").asText(null);
                    key = "kubeflow".equals(backend) ? "kubeflow" : GENERIC_KEY;
                    ComponentStatus s = b.path("can_start").asBoolean(false)
                            ? ComponentStatus.healthy(b.path("version").asText(null))
                            : ComponentStatus.unhealthy(b.path("reason").asText("cannot start a trainer"))
                                    .with("version", b.path("version").asText(null));
                    return s.with("backend", backend).with("engine_jar", b.path("engine_jar").asText(null));
                })
                .onFailure().recoverWithItem(e -> ComponentStatus.unhealthy("training-service: " + HttpProbe.reason(e)))
                .map(s -> List.of(new Entry(key, s, false)));
    }


    @Override
    public Map<String, Boolean> keys() {
        return services.url(SERVICE) == null ? Map.of() : Map.of(key, false);
    }
}
