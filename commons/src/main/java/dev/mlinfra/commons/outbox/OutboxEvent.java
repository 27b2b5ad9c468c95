package dev.mlinfra.commons.outbox;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.UUID;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/**
 * An event waiting in the outbox: written in the transaction of the state change it
 * announces ({@link Outbox#stage}), published to Kafka afterwards by the {@link OutboxRelay}.
 */
@Entity
@Table(name = "outbox_event")
public class OutboxEvent extends PanacheEntityBase {

    @Id
    public UUID id;

    @Column(nullable = false)
    public String topic;

    /** The Kafka record key: the event's subject, so the events of one resource stay ordered. */
    @Column(name = "event_key", nullable = false)
    public String key;

    @Column(name = "event_type", nullable = false)
    public String type;

    /** The whole envelope as JSON, exactly as it is published. */
    @JdbcTypeCode(SqlTypes.JSON)
    @Column(nullable = false)
    public String payload;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    /** When the broker acknowledged it; null while it waits. */
    @Column(name = "published_at")
    public Instant publishedAt;
}
