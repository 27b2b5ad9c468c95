package dev.mlinfra.registry;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/**
 * A team's model: a name for a line of versions, each from a completed training job. The row
 * also holds its current version (the production one, else the newest not archived, else the
 * newest; {@link CurrentVersion}) so that lists need no join.
 */
@Entity
@Table(name = "model")
public class Model extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(nullable = false)
    public String team;

    @Column(name = "model_id", nullable = false)
    public String modelId;

    @Column(name = "model_type", nullable = false)
    public String modelType;

    @Column(nullable = false)
    public String description;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;

    /** Versions registered so far; the next is {@code v1.<versions>.0}. */
    @Column(nullable = false)
    public int versions;

    @Column(name = "current_version", nullable = false)
    public String currentVersion;

    @Column(name = "current_stage", nullable = false)
    public Stage currentStage;

    @Column(nullable = false)
    public ModelStatus status;
}
