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
 * The training backend, as training-service sees it ({@code /internal/v1/training/backend}): which one,
 * its version (the local trainer: the engine's) and whether it can start a trainer now. Kubeflow reports
 * under {@code kubeflow}; any other backend under {@code training_backend}.
 */
@Singleton
public class TrainingBackendProbe extends PeerProbe {

    static final String SERVICE = "training_service";
    static final String KUBEFLOW_KEY = "kubeflow";
    static final String GENERIC_KEY = "training_backend";

    private volatile String key = GENERIC_KEY;

    public TrainingBackendProbe(HttpProbe http, ServicesProbe services, ObjectMapper json) {
        super(SERVICE, http, services, json);
    }

    @Override
    protected Uni<List<Entry>> probe(String url, Map<String, String> forwarded, Duration timeout) {
        return http.get(url, "/internal/v1/training/backend", forwarded, timeout)
                .map(answer -> {
                    if (answer.status() != 200) {
                        return ComponentStatus.unhealthy("training-service answered HTTP " + answer.status());
                    }
                    JsonNode b = tree(answer);
                    String backend = b.path("backend").asText(null);
                    key = "kubeflow".equals(backend) ? KUBEFLOW_KEY : GENERIC_KEY;
                    ComponentStatus s = b.path("can_start").asBoolean(false)
                            ? ComponentStatus.healthy(b.path("version").asText(null))
                            : ComponentStatus.unhealthy(b.path("reason").asText("cannot start a trainer"))
                                    .with("version", b.path("version").asText(null));
                    return s.with("backend", backend).withInternal("engine_jar", b.path("engine_jar").asText(null));
                })
                .onFailure().recoverWithItem(e -> ComponentStatus.unhealthy("training-service: " + HttpProbe.reason(e)))
                .map(s -> List.of(new Entry(key, s, false)));
    }


    @Override
    public Map<String, Boolean> keys() {
        return !configured() ? Map.of() : Map.of(key, false);
    }

    @Override
    public Set<String> names() {
        return !configured() ? Set.of() : Set.of(GENERIC_KEY, KUBEFLOW_KEY);
    }
}
