package dev.mlinfra.registry.mirror;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MultivaluedHashMap;
import jakarta.ws.rs.core.MultivaluedMap;
import java.util.Optional;
import org.eclipse.microprofile.rest.client.ext.ClientHeadersFactory;

/** The bearer token of {@code mlinfra.registry.mlflow.token} on every MLflow call, when one is configured. Never logged. */
@ApplicationScoped
public class MlflowAuth implements ClientHeadersFactory {

    private final Optional<String> authorization;

    public MlflowAuth(MlflowMirrorConfig config) {
        this.authorization = config.token().filter(t -> !t.isBlank()).map(t -> "Bearer " + t);
    }

    @Override
    public MultivaluedMap<String, String> update(MultivaluedMap<String, String> incoming,
            MultivaluedMap<String, String> outgoing) {
        MultivaluedMap<String, String> headers = new MultivaluedHashMap<>();
        authorization.ifPresent(value -> headers.putSingle(HttpHeaders.AUTHORIZATION, value));
        return headers;
    }
}
