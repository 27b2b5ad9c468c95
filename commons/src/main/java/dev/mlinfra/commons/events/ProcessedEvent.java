package dev.mlinfra.commons.events;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.UUID;

/** An event a consumer of this service has applied (see {@link ProcessedEvents}). */
@Entity
@Table(name = "processed_event")
public class ProcessedEvent extends PanacheEntityBase {

    @Id
    @Column(name = "event_id")
    public UUID eventId;

    /** Which consumer applied it (for the logs and for people; the event id alone is the key). */
    @Column(nullable = false)
    public String consumer;

    @Column(name = "processed_at", nullable = false)
    public Instant processedAt;
}
