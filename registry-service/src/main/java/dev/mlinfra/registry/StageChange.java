package dev.mlinfra.registry;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A version entering a stage: who moved it, when, and why. */
@Entity
@Table(name = "model_stage_change")
public class StageChange extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "model_ref", nullable = false)
    public Long modelRef;

    @Column(nullable = false)
    public String team;

    @Column(name = "model_id", nullable = false)
    public String modelId;

    @Column(nullable = false)
    public String version;

    /** Null when the version was registered into its stage. */
    @Column(name = "from_stage")
    public Stage fromStage;

    @Column(name = "to_stage", nullable = false)
    public Stage toStage;

    /** The API key that made the change; null when the registry made it (archiving a replaced production version). */
    @Column(name = "changed_by")
    public String changedBy;

    @Column(name = "changed_at", nullable = false)
    public Instant changedAt;

    @Column(nullable = false)
    public String message;
}
