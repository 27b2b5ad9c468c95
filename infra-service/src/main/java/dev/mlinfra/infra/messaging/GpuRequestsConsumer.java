package dev.mlinfra.infra.messaging;

import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.commons.events.EventInbox;
import dev.mlinfra.commons.events.GpuCapacity;
import dev.mlinfra.infra.service.GpuLedger;
import dev.mlinfra.infra.service.LedgerMetrics;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Reads {@code mlinfra.gpu} and applies requests and releases to the ledger; every other type
 * (the ledger's own grants and denials among them) is passed over. Each event is applied in one
 * transaction that first records its id, so a redelivered event changes nothing. An event that
 * cannot be applied (the database is away) is retried with back-off until it is: records of the
 * topic are applied one after the other, so none is lost and none overtakes another. A message
 * that is no readable event is logged once and skipped.
 */
@ApplicationScoped
public class GpuRequestsConsumer {

    /** The incoming channel; its topic is {@code mlinfra.gpu.topic}. */
    public static final String CHANNEL = "gpu-capacity";
    /** The name under which applied events are recorded. */
    static final String CONSUMER = "infra-service.gpu-ledger";
    private static final Logger LOG = Logger.getLogger(GpuRequestsConsumer.class);

    /** An event of the ledger, read and checked. */
    private sealed interface Command {
    }

    private record Request(GpuCapacity.Requested data) implements Command {
    }

    private record Release(GpuCapacity.Released data) implements Command {
    }

    private final GpuLedger ledger;
    private final LedgerMetrics metrics;
    private final EventInbox inbox;

    public GpuRequestsConsumer(GpuLedger ledger, LedgerMetrics metrics, EventInbox inbox) {
        this.ledger = ledger;
        this.metrics = metrics;
        this.inbox = inbox;
    }

    @Incoming(CHANNEL)
    public Uni<Void> consume(String message) {
        EventEnvelope event = inbox.read(message, CONSUMER);
        Command command;
        try {
            command = event == null ? null : command(event);
        } catch (IOException | IllegalArgumentException e) {
            LOG.warnf("Skipping a message of the GPU topic that is no usable event: %s", e.getMessage());
            return Uni.createFrom().voidItem();
        }
        if (command == null) {
            return Uni.createFrom().voidItem();
        }
        return inbox.applyOnce(event, CONSUMER, () -> apply(command))
                .call(() -> metrics.refresh().onFailure().recoverWithNull()).replaceWithVoid();
    }

    private Uni<Void> apply(Command command) {
        return switch (command) {
            case Request r -> ledger.request(r.data());
            case Release r -> ledger.release(r.data());
        };
    }

    /** The ledger's command in the event, null for a type the ledger does not act on. */
    private Command command(EventEnvelope event) throws IOException {
        if (event == null || event.type() == null) {
            throw new IllegalArgumentException("no event type");
        }
        if (!GpuCapacity.REQUESTED.equals(event.type()) && !GpuCapacity.RELEASED.equals(event.type())) {
            return null;
        }
        if (event.id() == null || event.data() == null || !event.data().isObject()) {
            throw new IllegalArgumentException(event.type() + " event " + event.id() + " has no id or no data object");
        }
        if (GpuCapacity.REQUESTED.equals(event.type())) {
            GpuCapacity.Requested r = inbox.data(event, GpuCapacity.Requested.class);
            String requestId = orElse(r.requestId(), event.subject());
            return new Request(new GpuCapacity.Requested(required(event, "request_id", requestId),
                    required(event, "requester", r.requester()), required(event, "team", orElse(r.team(), event.team())),
                    r.modelType()));
        }
        GpuCapacity.Released r = inbox.data(event, GpuCapacity.Released.class);
        String requestId = orElse(r.requestId(), event.subject());
        return new Release(new GpuCapacity.Released(required(event, "request_id", requestId),
                required(event, "requester", r.requester()), required(event, "team", orElse(r.team(), event.team())),
                r.reason()));
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
}
