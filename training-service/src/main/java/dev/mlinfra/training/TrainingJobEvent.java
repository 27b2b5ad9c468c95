package dev.mlinfra.training;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.Map;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** One thing that happened to a job: a status change, a step, a checkpoint, the evaluation, a warning. */
@Entity
@Table(name = "training_job_event")
public class TrainingJobEvent extends PanacheEntityBase {

    /** Kinds of event. */
    public static final String STATUS = "status";
    public static final String STEP = "step";
    public static final String CHECKPOINT = "checkpoint";
    public static final String EVALUATION = "evaluation";
    public static final String WARNING = "warning";
    public static final String INFO = "info";

    /** Orders all events; a job's events in this order are its history. */
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "job_id", nullable = false)
    public String jobId;

    @Column(nullable = false)
    public String type;

    @Column(nullable = false)
    public String message;

    @JdbcTypeCode(SqlTypes.JSON)
    public Map<String, Object> data;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    public static TrainingJobEvent of(String jobId, String type, String message, Map<String, Object> data) {
        TrainingJobEvent e = new TrainingJobEvent();
        e.jobId = jobId;
        e.type = type;
        e.message = message;
        e.data = data;
        e.createdAt = Instant.now();
        return e;
    }
}
