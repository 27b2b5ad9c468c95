package dev.mlinfra.commons.outbox;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Publishes staged events to Kafka. One replica relays at a time: a batch begins by taking a
 * transaction-scoped advisory lock ({@link #RELAY_LOCK}), and a replica that finds it taken leaves
 * the round to the one that holds it. Two replicas claiming batches side by side (during a rolling
 * update, say) could publish a later event of a subject before an earlier one. An event is marked
 * published only after the broker has acknowledged it, and a batch stops at the first failure, so
 * events of one subject never overtake each other. While Kafka is down, events wait in the table.
 *
 * <p>The relay is the one reader of the outbox table and uses the reactive SQL client, not
 * Hibernate: a round is one set-based claim ({@code FOR UPDATE SKIP LOCKED}) and one set-based
 * update, and it holds the claimed rows' locks on its own thread while the broker acknowledges,
 * where a Hibernate session (bound to one Vert.x context) would add entity loading and a context
 * switch per round for nothing. Writers stage events through {@link Outbox} in their Hibernate
 * transaction ({@link OutboxEvent}).
 */
@ApplicationScoped
public class OutboxRelay {

    private static final Logger LOG = Logger.getLogger(OutboxRelay.class);
    /** The key of the advisory lock that one relaying replica holds: "mlinfra" in ASCII, then 1. */
    public static final long RELAY_LOCK = 0x6d6c_696e_6672_6101L;

    private record Pending(UUID id, String topic, String key, String type, String payload) {
    }

    private final Pool pool;
    private final OutboxConfig config;
    private final Optional<String> bootstrapServers;
    private final String clientId;
    private ScheduledExecutorService scheduler;
    private KafkaProducer<String, String> producer;
    private volatile boolean failing;
    private long lastCleanupMillis;

    public OutboxRelay(Pool pool, OutboxConfig config,
            @ConfigProperty(name = "kafka.bootstrap.servers") Optional<String> bootstrapServers,
            @ConfigProperty(name = "quarkus.application.name") String applicationName) {
        this.pool = pool;
        this.config = config;
        this.bootstrapServers = bootstrapServers;
        this.clientId = applicationName + "-outbox";
    }

    void start(@Observes StartupEvent event) {
        if (!config.enabled()) {
            return;
        }
        String servers = bootstrapServers.orElseThrow(() -> new IllegalStateException(
                "kafka.bootstrap.servers is not set: the outbox relay needs the Kafka broker to publish events"));
        long timeoutMs = config.publishTimeout().toMillis();
        Properties props = new Properties();
        props.putAll(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers,
                ProducerConfig.CLIENT_ID_CONFIG, clientId,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true",
                ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(timeoutMs),
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Long.toString(Math.max(1000, timeoutMs / 2)),
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Long.toString(timeoutMs),
                ProducerConfig.LINGER_MS_CONFIG, "0"));
        producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, clientId);
            t.setDaemon(true);
            return t;
        });
        long every = config.pollInterval().toMillis();
        scheduler.scheduleWithFixedDelay(this::round, every, every, TimeUnit.MILLISECONDS);
        LOG.infof("Outbox relay publishing to %s every %d ms", servers, every);
    }

    void stop(@Observes ShutdownEvent event) {
        if (scheduler != null) {
            scheduler.shutdown();
            try {
                scheduler.awaitTermination(config.publishTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }

    /**
     * Publishes batches until fewer than a batch's worth of events wait (a backlog drains without
     * waiting for the poll interval between batches). Runs on the relay thread.
     */
    void round() {
        int published;
        do {
            published = batch();
        } while (published == config.batchSize());
    }

    /** Claims a batch, publishes it in order, marks what the broker acknowledged; the number published. */
    int batch() {
        try {
            int published = pool.withTransaction(tx -> tx.preparedQuery("SELECT pg_try_advisory_xact_lock($1) AS relaying")
                    .execute(Tuple.of(RELAY_LOCK))
                    .flatMap(lock -> lock.iterator().next().getBoolean("relaying")
                            ? claimAndPublish(tx)
                            : Uni.createFrom().item(0)))
                    .await().atMost(config.publishTimeout().multipliedBy(config.batchSize() + 1L));
            if (published > 0 && LOG.isDebugEnabled()) {
                LOG.debugf("Published %d events", published);
            }
            cleanup();
            return published;
        } catch (RuntimeException e) {
            LOG.warnf("Outbox round failed, retrying: %s", e.toString());
            return 0;
        }
    }

    /** In the transaction that holds the relay's lock: claims a batch, publishes it, marks what was acknowledged. */
    private Uni<Integer> claimAndPublish(SqlConnection tx) {
        return tx.preparedQuery(
                "SELECT id, topic, event_key, event_type, payload::text AS payload FROM outbox_event "
                        + "WHERE published_at IS NULL ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED")
                .execute(Tuple.of(config.batchSize()))
                .map(rows -> {
                    List<Pending> batch = new ArrayList<>();
                    for (Row r : rows) {
                        batch.add(new Pending(r.getUUID("id"), r.getString("topic"), r.getString("event_key"),
                                r.getString("event_type"), r.getString("payload")));
                    }
                    return batch;
                })
                // Publishing blocks until the broker answers: off the event loop, inside the open transaction.
                .emitOn(Infrastructure.getDefaultWorkerPool())
                .map(this::publish)
                .flatMap(sent -> sent.isEmpty()
                        ? Uni.createFrom().item(0)
                        : tx.preparedQuery("UPDATE outbox_event SET published_at = $2 WHERE id = ANY($1)")
                                .execute(Tuple.of(sent.toArray(UUID[]::new), OffsetDateTime.now(ZoneOffset.UTC)))
                                .map(r -> sent.size()));
    }

    /**
     * Sends the whole batch at once (the idempotent producer keeps the order within a partition),
     * then waits for the acknowledgements in order up to the first failure; returns the ids
     * acknowledged before it. Events after a failed one may have reached the broker too: they are
     * sent again with it, and consumers skip what they have applied.
     */
    private List<UUID> publish(List<Pending> batch) {
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        for (Pending p : batch) {
            try {
                acks.add(producer.send(new ProducerRecord<>(p.topic, p.key, p.payload)));
            } catch (RuntimeException e) {
                acks.add(CompletableFuture.failedFuture(e));
                break;
            }
        }
        List<UUID> sent = new ArrayList<>();
        long deadline = System.nanoTime() + config.publishTimeout().toNanos();
        for (int i = 0; i < acks.size(); i++) {
            Pending p = batch.get(i);
            try {
                acks.get(i).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                sent.add(p.id);
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                if (!failing) {
                    LOG.warnf("Cannot publish %s event %s to %s (%s); it and later events wait and are retried",
                            p.type, p.id, p.topic, e.getCause() == null ? e.toString() : e.getCause().toString());
                }
                failing = true;
                return sent;
            }
        }
        if (failing && !batch.isEmpty()) {
            LOG.infof("Publishing to Kafka again; %d waiting events sent", sent.size());
        }
        failing = false;
        return sent;
    }

    private void cleanup() {
        long now = System.currentTimeMillis();
        if (now - lastCleanupMillis < Duration.ofHours(1).toMillis()) {
            return;
        }
        lastCleanupMillis = now;
        pool.preparedQuery("DELETE FROM outbox_event WHERE published_at < $1")
                .execute(Tuple.of(OffsetDateTime.now(ZoneOffset.UTC).minus(config.retention())))
                .await().atMost(config.publishTimeout());
    }
}
