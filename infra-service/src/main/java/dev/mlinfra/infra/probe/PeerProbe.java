package dev.mlinfra.infra.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smallrye.mutiny.Uni;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A component the status learns about from one of the platform's services (its internal API, with the
 * caller's identity): no entry when that service is not configured.
 */
// @Singleton in subclasses: a client proxy would need a no-argument constructor here
abstract class PeerProbe implements ComponentProbe {

    protected final HttpProbe http;
    private final ServicesProbe services;
    protected final ObjectMapper json;
    private final String service;

    PeerProbe(String service, HttpProbe http, ServicesProbe services, ObjectMapper json) {
        this.service = service;
        this.http = http;
        this.services = services;
        this.json = json;
    }

    @Override
    public final Uni<List<Entry>> probe(Map<String, String> forwarded, Duration timeout) {
        String url = services.url(service);
        return url == null ? Uni.createFrom().item(List.of()) : probe(url, forwarded, timeout);
    }

    /** Probes with the service at {@code serviceUrl}; never fails. */
    protected abstract Uni<List<Entry>> probe(String serviceUrl, Map<String, String> forwarded, Duration timeout);

    /** Whether the service this probe asks is configured. */
    protected boolean configured() {
        return services.url(service) != null;
    }

    protected JsonNode tree(HttpProbe.Answer answer) {
        return HttpProbe.tree(json, answer.body());
    }
}
