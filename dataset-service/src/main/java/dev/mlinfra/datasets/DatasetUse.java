package dev.mlinfra.datasets;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/**
 * A training job that trains on a dataset, as training-service's events tell it: while the job is
 * open (queued, running, cancelling) the dataset cannot be deleted. Learned from events rather
 * than asked for, so deleting a dataset does not depend on training-service being up.
 */
@Entity
@Table(name = "dataset_use")
public class DatasetUse extends PanacheEntityBase {

    @Id
    @Column(name = "job_id")
    public String jobId;

    @Column(nullable = false)
    public String team;

    @Column(name = "dataset_id", nullable = false)
    public String datasetId;

    /** The job's last known status. */
    @Column(name = "job_status", nullable = false)
    public String jobStatus;

    /** Whether the job may still read the dataset. */
    @Column(name = "open", nullable = false)
    public boolean open;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;
}
