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
import java.util.List;
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

    /**
     * While {@link #version} deploys, the version it replaces, which answers until it is ready
     * (null: none answers meanwhile). With its stage, adapter, name and prompt as it was deployed.
     */
    @Column(name = "previous_version")
    public String previousVersion;

    @Column(name = "previous_stage")
    public String previousStage;

    @Column(name = "previous_artifact")
    public String previousArtifact;

    @Column(name = "previous_served_name")
    public String previousServedName;

    @JdbcTypeCode(SqlTypes.JSON)
    @Column(name = "previous_prompt_template")
    public Map<String, Object> previousPromptTemplate;

    /** The adapters of the versions the change being applied took out of service, to unload once it is committed. */
    @Transient
    public List<String> replacedServedNames = List.of();

    /**
     * The deployment as it answers requests now: itself when ready; while a new version deploys,
     * the version it replaces (a copy, ready, that nobody stores); otherwise null.
     */
    public Deployment answering() {
        if (state == DeploymentState.READY) {
            return this;
        }
        if (state != DeploymentState.DEPLOYING || previousServedName == null) {
            return null;
        }
        Deployment a = new Deployment();
        a.id = id;
        a.team = team;
        a.modelId = modelId;
        a.modelType = modelType;
        a.backend = backend;
        a.createdAt = createdAt;
        a.updatedAt = updatedAt;
        a.state = DeploymentState.READY;
        a.version = previousVersion;
        a.stage = previousStage;
        a.artifact = previousArtifact;
        a.servedName = previousServedName;
        a.promptTemplate = previousPromptTemplate;
        return a;
    }

    /** The version that answers now becomes the one that answers while {@code this} deploys another. */
    public void keepAnsweringMeanwhile() {
        previousVersion = version;
        previousStage = stage;
        previousArtifact = artifact;
        previousServedName = servedName;
        previousPromptTemplate = promptTemplate;
    }

    /** The version that answers meanwhile serves again, as it was loaded; returns the adapter of the one that was deploying. */
    public String servePrevious() {
        String deploying = servedName;
        version = previousVersion;
        artifact = previousArtifact;
        servedName = previousServedName;
        promptTemplate = previousPromptTemplate;
        forgetPrevious();
        return deploying;
    }

    /** Nothing answers for the deploying version any more; returns the adapter that did (null: none). */
    public String forgetPrevious() {
        String name = previousServedName;
        previousVersion = null;
        previousStage = null;
        previousArtifact = null;
        previousServedName = null;
        previousPromptTemplate = null;
        return name;
    }

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
