package dev.mlinfra.datasets.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.commons.events.ProcessedEvents;
import dev.mlinfra.commons.outbox.Outbox;
import dev.mlinfra.commons.outbox.OutboxEvent;
import dev.mlinfra.datasets.Dataset;
import dev.mlinfra.testsupport.DevstackResource;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.vertx.VertxContextSupport;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** A state change and its event commit together or not at all; a consumer applies an event once. */
@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "datasets"))
class TransactionsTest {

    @Inject
    DatasetRepository repository;

    @Inject
    Outbox outbox;

    @Inject
    ProcessedEvents processed;

    @Inject
    ObjectMapper json;

    private static <T> T await(Supplier<Uni<T>> work) throws Throwable {
        return VertxContextSupport.subscribeAndAwait(work);
    }

    private static Dataset dataset(String team, String name) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        Dataset d = new Dataset();
        d.team = team;
        d.datasetId = name;
        d.name = name;
        d.description = "";
        d.source = "github";
        d.format = "jsonl";
        d.version = "v1";
        d.status = Dataset.Status.PENDING;
        d.phase = Dataset.Phase.AWAITING_UPLOAD;
        d.createdAt = now;
        d.updatedAt = now;
        d.uploadId = "upl-" + UUID.randomUUID();
        d.uploadExpiresAt = now.plusSeconds(3600);
        return d;
    }

    private EventEnvelope event(String team, String subject) {
        return EventEnvelope.of("dataset.test", "test", team, subject, json.createObjectNode().put("dataset_id", subject));
    }

    private Dataset stored(String team, String name) throws Throwable {
        return await(() -> Panache.withSession(() -> repository.findVisible(team, name)));
    }

    private long staged(EventEnvelope event) throws Throwable {
        return await(() -> Panache.withSession(() -> OutboxEvent.count("id", event.id())));
    }

    @Test
    void aFailureAfterStagingRollsBackTheChangeAndItsEvent() throws Throwable {
        String name = "rollback-" + UUID.randomUUID().toString().substring(0, 8);
        EventEnvelope event = event("team-t", name);
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> await(() -> Panache.withTransaction(
                () -> repository.persist(dataset("team-t", name))
                        .flatMap(d -> outbox.stage("mlinfra.datasets", event))
                        // both rows are written to the database before the failure
                        .flatMap(ignored -> Panache.flush())
                        .invoke(() -> {
                            throw new IllegalStateException("a later step failed");
                        }))));
        assertEquals("a later step failed", thrown.getMessage());
        assertNull(stored("team-t", name), "the state change was rolled back");
        assertEquals(0, staged(event), "its event was rolled back with it");

        // The same work without the failure commits both.
        await(() -> Panache.withTransaction(() -> repository.persist(dataset("team-t", name))
                .flatMap(d -> outbox.stage("mlinfra.datasets", event))));
        assertNotNull(stored("team-t", name));
        assertEquals(1, staged(event));
    }

    @Test
    void anEventCannotBeStagedOutsideTheTransactionOfItsChange() {
        EventEnvelope event = event("team-t", "outside");
        IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> await(() -> Panache.withSession(() -> outbox.stage("mlinfra.datasets", event))));
        assertTrue(thrown.getMessage().contains("inside the transaction"), thrown.getMessage());
    }

    @Test
    void aConsumerAppliesAnEventOnceAndAgainOnlyIfItsEffectRolledBack() throws Throwable {
        UUID id = UUID.randomUUID();
        // The effect fails: the record of the event goes with it, so a redelivery applies it.
        assertThrows(IllegalStateException.class, () -> await(() -> Panache.withTransaction(() -> processed.firstTime(id, "test")
                .invoke(first -> {
                    throw new IllegalStateException("the effect failed");
                }))));
        assertTrue(await(() -> Panache.withTransaction(() -> processed.firstTime(id, "test"))), "applied on redelivery");
        assertFalse(await(() -> Panache.withTransaction(() -> processed.firstTime(id, "test"))), "a second delivery is dropped");
        assertFalse(await(() -> Panache.withTransaction(() -> processed.firstTime(id, "another-consumer"))),
                "the service applies an event once, whichever consumer sees it");
    }
}
