package dev.mlinfra.training;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;
import java.io.Serializable;
import java.time.Instant;
import java.util.Objects;

/** A checkpoint the trainer wrote: the job resumes from its newest one. */
@Entity
@Table(name = "training_checkpoint")
@IdClass(TrainingCheckpoint.Key.class)
public class TrainingCheckpoint extends PanacheEntityBase {

    /** The key of a checkpoint: its job and step. */
    public static class Key implements Serializable {
        public String jobId;
        public int step;

        public Key() {
        }

        public Key(String jobId, int step) {
            this.jobId = jobId;
            this.step = step;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.step == step && Objects.equals(k.jobId, jobId);
        }

        @Override
        public int hashCode() {
            return Objects.hash(jobId, step);
        }
    }

    @Id
    @Column(name = "job_id")
    public String jobId;

    @Id
    public int step;

    /** Training loss at that step, when known. */
    public Double loss;

    @Column(nullable = false)
    public String location;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;
}
