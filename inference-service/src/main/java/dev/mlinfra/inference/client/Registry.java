package dev.mlinfra.inference.client;

import dev.mlinfra.inference.service.Caller;
import io.smallrye.faulttolerance.api.CircuitBreakerName;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.WebApplicationException;
import org.eclipse.microprofile.faulttolerance.CircuitBreaker;
import org.eclipse.microprofile.faulttolerance.Fallback;
import org.eclipse.microprofile.faulttolerance.Timeout;
import org.eclipse.microprofile.rest.client.inject.RestClient;
import org.jboss.logging.Logger;

/**
 * What the registry knows of a model that this service has no deployment for yet: asked only on a
 * miss, when the registry's event may not have arrived, with a timeout and a circuit breaker. A
 * refusal (404: no such model for the caller's team) is an answer; when the registry cannot say,
 * the answer is "unknown" (null) and the caller keeps what it knows itself.
 */
@ApplicationScoped
public class Registry {

    private static final Logger LOG = Logger.getLogger(Registry.class);

    private final RegistryClient client;

    public Registry(@RestClient RegistryClient client) {
        this.client = client;
    }

    /** The caller's model as the registry shows it now, or null when it has none or cannot say. */
    @Timeout(2000)
    @CircuitBreaker(requestVolumeThreshold = 10, failureRatio = 0.5, delay = 10000)
    @CircuitBreakerName("registry")
    @Fallback(fallbackMethod = "cannotSay")
    public Uni<RegistryClient.RegisteredModel> model(Caller caller, String modelId) {
        return client.model(modelId, caller.token(), caller.requestId())
                .onFailure(Registry::refused).recoverWithItem(e -> {
                    int status = ((WebApplicationException) e).getResponse().getStatus();
                    if (status != 404) {
                        LOG.debugf("The registry refused to show model %s/%s: %d", caller.team(), modelId, status);
                    }
                    return null;
                });
    }

    Uni<RegistryClient.RegisteredModel> cannotSay(Caller caller, String modelId, Throwable cause) {
        LOG.warnf("The registry could not say whether model %s/%s is registered: %s", caller.team(), modelId, cause.toString());
        return Uni.createFrom().nullItem();
    }

    /** A 4xx from the registry: its answer about this caller and model, not a failure of the registry. */
    private static boolean refused(Throwable e) {
        return e instanceof WebApplicationException w && w.getResponse() != null && w.getResponse().getStatus() >= 400
                && w.getResponse().getStatus() < 500;
    }
}
