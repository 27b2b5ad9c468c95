package dev.mlinfra.training;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.NamedQueries;
import jakarta.persistence.NamedQuery;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.Map;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** A team's training job: what to train, how it goes, and what it produced. */
@Entity
@Table(name = "training_job")
@NamedQueries({
        @NamedQuery(name = TrainingJob.USING_DATASET, query = """
                from TrainingJob where team = :team and datasetId = :datasetId and status in :open order by id"""),
        @NamedQuery(name = TrainingJob.OPEN_ON_BACKEND, query = """
                from TrainingJob where status in :statuses and backend = :backend order by id""")
})
public class TrainingJob extends PanacheEntityBase {

    public static final String USING_DATASET = "TrainingJob.usingDataset";
    public static final String OPEN_ON_BACKEND = "TrainingJob.openOnBackend";
    /** Job ids are this prefix and the job's number. */
    public static final String ID_PREFIX = "train-";

    /** The dataset as it was resolved when the job was created (a JSON column). */
    public record DatasetRef(String uri, String format, String checksumSha256, Long numExamples) {
    }

    /**
     * How far a running job is (a JSON column), from the trainer's step reports; before the first
     * step of a launch only the step counts are known.
     */
    public record Progress(Integer currentEpoch, Integer totalEpochs, int currentStep, int totalSteps, Double loss,
            Double learningRate, Double tokensPerSecond, Long etaSeconds, Integer resumedFromStep, Instant attemptStartedAt,
            Integer percentComplete, String phase) {

        /** The trainer runs its steps. */
        public static final String TRAINING = "training";
        /** The trainer has run its last step and evaluates the result on the held-out records. */
        public static final String EVALUATING = "evaluating";

        /** The same, evaluating: no estimate of the time left (the steps' pace says nothing of it). */
        public Progress evaluating() {
            return new Progress(currentEpoch, totalEpochs, currentStep, totalSteps, loss, learningRate, tokensPerSecond, null,
                    resumedFromStep, attemptStartedAt, percentComplete, EVALUATING);
        }

        /**
         * The same, finished: every step run. The trainer writes its evaluation last, so a job that
         * has it ran them all, though the reports of its last steps may not have been applied (they
         * come through Kafka; the service was down when the trainer finished), and are dropped after.
         */
        public Progress finished() {
            return totalSteps <= 0 ? this : new Progress(totalEpochs != null ? totalEpochs : currentEpoch, totalEpochs,
                    totalSteps, totalSteps, loss, learningRate, tokensPerSecond, 0L, resumedFromStep, attemptStartedAt,
                    100, phase);
        }

        /** {@code step} of {@code total} in percent; null without a total. */
        public static Integer percent(int step, int total) {
            return total > 0 ? (int) Math.min(100, 100L * step / total) : null;
        }

        /** The same with the cluster's view of how far the trainer is. */
        public Progress withCluster(int percent, Long eta) {
            return new Progress(currentEpoch, totalEpochs, currentStep, totalSteps, loss, learningRate, tokensPerSecond,
                    eta != null ? eta : etaSeconds, resumedFromStep, attemptStartedAt, percent, phase);
        }
    }

    /** Where a finished job's results are (a JSON column). */
    public record Artifacts(String output, String adapter, String model, String metrics) {
    }

    /** The number in the job id; also the row's key. */
    @Id
    public Long id;

    @Column(name = "job_id", nullable = false, unique = true)
    public String jobId;

    @Column(nullable = false)
    public String team;

    @Column(name = "model_type", nullable = false)
    public String modelType;

    @Column(name = "dataset_id", nullable = false)
    public String datasetId;

    @JdbcTypeCode(SqlTypes.JSON)
    @Column(nullable = false)
    public DatasetRef dataset;

    /** Hyperparameters as given (validated); the trainer fills in its defaults for the rest. */
    @JdbcTypeCode(SqlTypes.JSON)
    @Column(nullable = false)
    public Map<String, Object> config;

    @Column(name = "experiment_name")
    public String experimentName;

    public String description;

    @Column(nullable = false)
    public JobStatus status;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;

    @Column(name = "started_at")
    public Instant startedAt;

    @Column(name = "finished_at")
    public Instant finishedAt;

    @Column(name = "cancel_requested_at")
    public Instant cancelRequestedAt;

    @JdbcTypeCode(SqlTypes.JSON)
    public Progress progress;

    /** The evaluation's metrics (eval_loss, accuracy, f1, trajectory_similarity, base, ...) as the trainer wrote them. */
    @JdbcTypeCode(SqlTypes.JSON)
    public Map<String, Object> metrics;

    @JdbcTypeCode(SqlTypes.JSON)
    public Artifacts artifacts;

    /** Why a failed job failed, in the trainer's (or the platform's) words. */
    public String error;

    /** Where the trainer writes: {@code s3://<bucket>/training/<team>/<job_id>/}. */
    @Column(name = "output_uri", nullable = false)
    public String outputUri;

    /** The execution backend that runs it ({@code local}, ...). */
    @Column(nullable = false)
    public String backend;

    /** How often its trainer was launched (a resumed job is launched again). */
    @Column(nullable = false)
    public int attempts;

    /**
     * How many launches ended because their trainer was asked to stop (SIGTERM: the platform or its
     * node stopped) and stopped after a checkpoint: they do not count against the launches a job gets.
     */
    @Column(nullable = false)
    public int stops;

    /**
     * The latest launch that was made (its trainer created, or its creation failed): below
     * {@link #attempts} while the latest launch is decided but not made yet.
     */
    @Column(nullable = false)
    public int launched;

    @Column(name = "idempotency_key")
    public String idempotencyKey;

    /** SHA-256 of the request that created it, to tell a retry from a different request with the same key. */
    @Column(name = "request_hash")
    public String requestHash;
}
