package dev.mlinfra.inference.messaging;

import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.commons.events.EventInbox;
import dev.mlinfra.commons.events.ModelEvents;
import dev.mlinfra.inference.Deployment;
import dev.mlinfra.inference.service.DeploymentService;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.util.function.Supplier;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * The registry's events ({@code mlinfra.models}): each is applied once, in its own transaction
 * ({@link EventInbox}); then the model's new version is deployed, or its removed adapter unloaded.
 */
@ApplicationScoped
public class ModelEventsConsumer {

    public static final String CHANNEL = "models";
    private static final Logger LOG = Logger.getLogger(ModelEventsConsumer.class);

    private final DeploymentService deployments;
    private final EventInbox inbox;

    public ModelEventsConsumer(DeploymentService deployments, EventInbox inbox) {
        this.deployments = deployments;
        this.inbox = inbox;
    }

    @Incoming(CHANNEL)
    public Uni<Void> on(String message) {
        EventEnvelope event = inbox.read(message, CHANNEL);
        if (event == null || event.data() == null || event.team() == null) {
            return Uni.createFrom().voidItem();
        }
        String team = event.team();
        try {
            switch (event.type()) {
                case ModelEvents.REGISTERED -> {
                    ModelEvents.Registered r = inbox.data(event, ModelEvents.Registered.class);
                    return applyThenDeploy(event, () -> deployments.registered(team, r));
                }
                case ModelEvents.STAGE_CHANGED -> {
                    ModelEvents.StageChanged c = inbox.data(event, ModelEvents.StageChanged.class);
                    return applyThenDeploy(event, () -> deployments.stageChanged(team, c));
                }
                case ModelEvents.DELETED -> {
                    ModelEvents.Deleted d = inbox.data(event, ModelEvents.Deleted.class);
                    String modelId = d.modelId() == null ? event.subject() : d.modelId();
                    return inbox.applyOnce(event, CHANNEL, () -> deployments.deleted(team, modelId))
                            .flatMap(deployments::unload);
                }
                default -> {
                    return Uni.createFrom().voidItem();
                }
            }
        } catch (IOException e) {
            LOG.warnf("Skipping %s event %s with unreadable data: %s", event.type(), event.id(), e.getMessage());
            return Uni.createFrom().voidItem();
        }
    }

    private Uni<Void> applyThenDeploy(EventEnvelope event, Supplier<Uni<Deployment>> effect) {
        return inbox.applyOnce(event, CHANNEL, effect).flatMap(d -> deployments.unloadReplaced(d).chain(() -> deployments.deploy(d))
                .onFailure().recoverWithItem(e -> {
            LOG.warnf("Deploying after %s event %s failed; the next round retries: %s", event.type(), event.id(), e.toString());
            return null;
        }));
    }
}
