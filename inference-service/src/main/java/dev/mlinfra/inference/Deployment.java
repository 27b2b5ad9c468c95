package dev.mlinfra.inference;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.PostPersist;
import jakarta.persistence.PostRemove;
import jakarta.persistence.PostUpdate;
import jakarta.persistence.Table;
import jakarta.persistence.Transient;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** The deployment of a model: which of its versions serves, under what name, and how far it is. */
@Entity
@Table(name = "deployment")
public class Deployment extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(nullable = false)
    public String team;

    @Column(name = "model_id", nullable = false)
    public String modelId;

    @Column(name = "model_type", nullable = false)
    public String modelType;

    /** The serving version; null once nothing is servable. */
    public String version;

    /** Its stage. */
    public String stage;

    /** Where its adapter is. */
    public String artifact;

    @Column(nullable = false)
    public DeploymentState state;

    /** Why it failed, or why nothing is servable. */
    public String reason;

    /** The serving backend that serves it ({@code local}, {@code openai}). */
    @Column(nullable = false)
    public String backend;

    /** The adapter's name on the backend. */
    @Column(name = "served_name")
    public String servedName;

    /** The trainer's prompt_template.json of the serving version. */
    @JdbcTypeCode(SqlTypes.JSON)
    @Column(name = "prompt_template")
    public Map<String, Object> promptTemplate;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;

    @Column(name = "ready_at")
    public Instant readyAt;

    /** The adapter of the version this deployment served before the change being applied, to unload once it is committed. */
    @Transient
    public String replacedServedName;

    private static final AtomicLong CHANGES = new AtomicLong();

    /**
     * How many deployment writes this replica has flushed: a lookup remembered before a write is
     * not used after it (DeploymentService.servable).
     */
    public static long changes() {
        return CHANGES.get();
    }

    @PostPersist
    @PostUpdate
    @PostRemove
    void changed() {
        CHANGES.incrementAndGet();
    }
}
