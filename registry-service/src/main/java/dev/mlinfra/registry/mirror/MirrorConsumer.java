package dev.mlinfra.registry.mirror;

import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.commons.events.EventInbox;
import dev.mlinfra.commons.events.ModelEvents;
import dev.mlinfra.registry.Stage;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.net.URI;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Follows {@code mlinfra.models} with a consumer group of its own and mirrors every registration,
 * stage change and deletion to MLflow ({@link MlflowMirror}). Each event is applied once, in one
 * transaction that first records its id, and retried with back-off until it succeeds
 * ({@link EventInbox}): while MLflow or the database is away the mirror waits, and the events of a
 * model are applied in the order they were published. Users never wait for it: their requests
 * only write the outbox. An event MLflow refuses for good (an invalid parameter) is logged, counted
 * and passed over, so that it cannot hold back every later one.
 *
 * <p>Without {@code mlinfra.registry.mlflow.url} the mirror is off: it says so once at start and
 * passes over every event.
 */
@ApplicationScoped
public class MirrorConsumer {

    /** The incoming channel; its topic is {@code mlinfra.registry.mlflow.topic}. */
    public static final String CHANNEL = "mlflow-mirror";
    /** The name under which applied events are recorded. */
    static final String CONSUMER = "registry-service.mlflow-mirror";
    private static final Logger LOG = Logger.getLogger(MirrorConsumer.class);

    private final MlflowMirror mirror;
    private final MirrorMetrics metrics;
    private final EventInbox inbox;
    private final MlflowMirrorConfig config;
    private final boolean enabled;

    public MirrorConsumer(MlflowMirror mirror, MirrorMetrics metrics, EventInbox inbox, MlflowMirrorConfig config) {
        this.mirror = mirror;
        this.metrics = metrics;
        this.inbox = inbox;
        this.config = config;
        this.enabled = config.url().filter(url -> !url.isBlank()).isPresent();
    }

    void announce(@Observes StartupEvent start) {
        if (enabled) {
            LOG.infof("MLflow mirror on: model events of %s go to the MLflow Model Registry at %s%s", config.topic(),
                    withoutCredentials(config.url().orElseThrow()), config.transitionStages() ? ", with stages" : "");
        } else {
            LOG.info("MLflow mirror off: mlinfra.registry.mlflow.url is not set");
        }
    }

    @Incoming(CHANNEL)
    public Uni<Void> consume(String message) {
        if (!enabled) {
            return Uni.createFrom().voidItem();
        }
        EventEnvelope event = inbox.read(message, CONSUMER);
        MlflowMirror.Command command;
        try {
            command = event == null ? null : command(event);
        } catch (IOException | IllegalArgumentException e) {
            LOG.warnf("The MLflow mirror skips a model event that is no usable event: %s", e.getMessage());
            return Uni.createFrom().voidItem();
        }
        if (command == null) {
            return Uni.createFrom().voidItem();
        }
        metrics.applying(event.time());
        return inbox.applyOnce(event, CONSUMER, () -> mirror.apply(command).replaceWith(Boolean.TRUE)
                        .onFailure(MlflowError::isPermanent).recoverWithItem(e -> rejected(event, e))
                        .onFailure().invoke(metrics::retried))
                .invoke(mirrored -> {
                    if (Boolean.TRUE.equals(mirrored)) {
                        metrics.mirrored(event.type());
                    }
                })
                .eventually(metrics::caughtUp)
                .replaceWithVoid();
    }

    private Boolean rejected(EventEnvelope event, Throwable e) {
        LOG.errorf("MLflow refused %s event %s of model %s of %s; the mirror passes over it: %s", event.type(), event.id(),
                event.subject(), event.team(), e.getMessage());
        metrics.rejected(e);
        return Boolean.FALSE;
    }

    /** The mirror's command in the event, null for a type it does not act on. */
    private MlflowMirror.Command command(EventEnvelope event) throws IOException {
        if (!ModelEvents.REGISTERED.equals(event.type()) && !ModelEvents.STAGE_CHANGED.equals(event.type())
                && !ModelEvents.DELETED.equals(event.type())) {
            return null;
        }
        if (event.data() == null || !event.data().isObject()) {
            throw new IllegalArgumentException(event.type() + " event " + event.id() + " has no data object");
        }
        String team = required(event, "team", event.team());
        return switch (event.type()) {
            case ModelEvents.REGISTERED -> {
                ModelEvents.Registered r = inbox.data(event, ModelEvents.Registered.class);
                ModelName model = new ModelName(team, required(event, "model_id", orElse(r.modelId(), event.subject())));
                required(event, "version", r.version());
                required(event, "artifact", r.artifact());
                yield new MlflowMirror.Register(model, r, stage(event, r.stage() == null ? Stage.NONE.value() : r.stage()));
            }
            case ModelEvents.STAGE_CHANGED -> {
                ModelEvents.StageChanged c = inbox.data(event, ModelEvents.StageChanged.class);
                ModelName model = new ModelName(team, required(event, "model_id", orElse(c.modelId(), event.subject())));
                required(event, "version", c.version());
                required(event, "artifact", c.artifact());
                yield new MlflowMirror.Move(model, c, stage(event, c.stage()));
            }
            default -> {
                ModelEvents.Deleted d = inbox.data(event, ModelEvents.Deleted.class);
                yield new MlflowMirror.Delete(new ModelName(team, required(event, "model_id", orElse(d.modelId(), event.subject()))));
            }
        };
    }

    private static Stage stage(EventEnvelope event, String value) {
        return Stage.ALL.stream().filter(s -> s.value().equals(value)).findFirst().orElseThrow(() -> new IllegalArgumentException(
                event.type() + " event " + event.id() + " has an unknown stage '" + value + "'"));
    }

    private static String orElse(String value, String fallback) {
        return value == null || value.isBlank() ? fallback : value;
    }

    private static String required(EventEnvelope event, String field, String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(event.type() + " event " + event.id() + " has no " + field);
        }
        return value;
    }

    /** The URL as logged: credentials in it stay out of the log. */
    static String withoutCredentials(String url) {
        try {
            URI uri = URI.create(url);
            return uri.getUserInfo() == null ? url : url.replace(uri.getRawUserInfo() + "@", "");
        } catch (IllegalArgumentException e) {
            return "(an unreadable URL)";
        }
    }
}
