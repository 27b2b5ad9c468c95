package dev.mlinfra.inference;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A registered model version as the registry's events describe it; its stage follows them. */
@Entity
@Table(name = "model_version")
public class ServableVersion extends PanacheEntityBase {

    public static final String ARCHIVED = "archived";
    public static final String PRODUCTION = "production";

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(nullable = false)
    public String team;

    @Column(name = "model_id", nullable = false)
    public String modelId;

    @Column(nullable = false)
    public String version;

    @Column(name = "model_type", nullable = false)
    public String modelType;

    /** none, staging, production or archived (the registry's words). */
    @Column(nullable = false)
    public String stage;

    /** Where its adapter is ({@code s3://bucket/.../adapter/}). */
    @Column(nullable = false)
    public String artifact;

    @Column(name = "training_job_id", nullable = false)
    public String trainingJobId;

    @Column(name = "registered_at", nullable = false)
    public Instant registeredAt;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;
}
