package dev.mlinfra.training.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.training.JobStatus;
import dev.mlinfra.training.TrainingCheckpoint;
import dev.mlinfra.training.TrainingJob;
import dev.mlinfra.training.TrainingJobEvent;
import dev.mlinfra.training.backend.TrainerProgress;
import dev.mlinfra.training.repository.CheckpointRepository;
import dev.mlinfra.training.repository.TrainingJobRepository;
import io.quarkus.hibernate.reactive.panache.common.WithTransaction;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What trainers report on {@code mlinfra.training.progress}, applied to their jobs: each step
 * updates the job's progress (with throughput and the time left) and its history; checkpoints
 * are recorded (a job resumes from its newest); the start, the evaluation and warnings (records
 * the trainer had to leave out) go to the history. Terminal states are not taken from here: they
 * follow from how the trainer ended ({@link JobRunner}).
 */
@ApplicationScoped
public class ProgressRecorder {

    /** A job's progress is announced on mlinfra.training at most this often (every step goes to its history). */
    private static final Duration ANNOUNCE_EVERY = Duration.ofSeconds(10);

    private final TrainingJobRepository jobs;
    private final CheckpointRepository checkpoints;
    private final JobTransitions transitions;
    private final ObjectMapper json;
    private final Map<String, Instant> announced = new java.util.concurrent.ConcurrentHashMap<>();

    public ProgressRecorder(TrainingJobRepository jobs, CheckpointRepository checkpoints, JobTransitions transitions,
            ObjectMapper json) {
        this.jobs = jobs;
        this.checkpoints = checkpoints;
        this.transitions = transitions;
        this.json = json;
    }

    /**
     * Records how far the cluster says a running job's trainer is (percent, and its estimate of the
     * time left), beside what the trainer's own reports say; a transaction of its own.
     */
    @WithTransaction
    public Uni<Void> cluster(TrainerProgress p) {
        return jobs.lockJob(p.jobId()).map(job -> {
            if (job != null && (job.status == JobStatus.RUNNING || job.status == JobStatus.CANCELLING)) {
                TrainingJob.Progress before = job.progress != null ? job.progress
                        : new TrainingJob.Progress(null, null, 0, 0, null, null, null, null, null, null, null,
                                TrainingJob.Progress.TRAINING);
                job.progress = before.withCluster(p.percent(), p.etaSeconds());
                job.updatedAt = Instant.now();
            }
            return null;
        });
    }

    /**
     * Applies one report, inside the transaction that records it as applied. A job whose end was
     * recorded before its trainer's last reports were applied (its exit is seen at once, its reports
     * come through Kafka) keeps what they leave behind: the checkpoint a cancel writes, the
     * evaluation. Its progress and status are settled, so the other reports of an ended job, and
     * every report of a queued one, are dropped.
     */
    public Uni<Void> apply(EventEnvelope report) {
        return jobs.lockJob(report.subject()).flatMap(job -> {
            if (job == null || job.status == JobStatus.QUEUED) {
                return Uni.createFrom().voidItem();
            }
            JsonNode data = report.data();
            if (job.status.terminal()) {
                return switch (report.type()) {
                    case "training.checkpoint" -> checkpoint(job, data, report.time(), false);
                    case "training.evaluation" -> transitions.record(job, TrainingJobEvent.EVALUATION, evaluated(data), map(data));
                    default -> Uni.createFrom().voidItem();
                };
            }
            return switch (report.type()) {
                case "training.step" -> step(job, data);
                case "training.started" -> started(job, data);
                case "training.evaluating" -> evaluating(job, data);
                case "training.checkpoint" -> checkpoint(job, data, report.time(), true);
                case "training.evaluation" -> transitions.record(job, TrainingJobEvent.EVALUATION,
                        evaluated(data), map(data));
                case "training.failed" -> transitions.record(job, TrainingJobEvent.INFO,
                        "The trainer reports a failure: " + data.path("reason").asText(), map(data));
                case "training.completed" -> transitions.record(job, TrainingJobEvent.INFO,
                        "The trainer reports it finished; its artifacts are written", map(data));
                case "training.cancelled" -> transitions.record(job, TrainingJobEvent.INFO,
                        "The trainer stopped after a checkpoint", map(data));
                default -> Uni.createFrom().voidItem();
            };
        });
    }

    /** The trainer ran its last step and evaluates: the job says so, beside its steps' progress. */
    private Uni<Void> evaluating(TrainingJob job, JsonNode d) {
        if (job.progress != null) {
            job.progress = job.progress.evaluating();
            job.updatedAt = Instant.now();
        }
        Map<String, Object> data = map(d);
        data.remove("job_id");
        return transitions.record(job, TrainingJobEvent.INFO, "Training finished at step " + d.path("steps").asInt()
                + "; evaluating on " + d.path("num_examples").asInt() + " held-out records"
                + (d.path("with_base").asBoolean() ? ", and the untrained base model on the same records to compare" : ""), data)
                .flatMap(ignored -> transitions.announce(job, "progress", null));
    }

    /** "Evaluated on 35 held-out records: eval_loss 1.66, accuracy 0.63, ... (base: ...)". */
    private static String evaluated(JsonNode d) {
        StringBuilder m = new StringBuilder("Evaluated on ").append(d.path("num_examples").asInt()).append(" held-out records: ")
                .append(scores(d));
        if (d.has("base")) {
            m.append(" (untrained base: ").append(scores(d.get("base"))).append(')');
        }
        return m.toString();
    }

    private static String scores(JsonNode d) {
        // eval_loss is left out where no held-out answer token fit within max_seq_len
        String loss = d.hasNonNull("eval_loss") ? String.format(java.util.Locale.ROOT, "%.3f", d.get("eval_loss").asDouble())
                : "not measured (no answer token of a held-out record fits within max_seq_len)";
        return String.format(java.util.Locale.ROOT, "eval_loss %s, accuracy %.3f, f1 %.3f, trajectory_similarity %.3f",
                loss, d.path("accuracy").asDouble(), d.path("f1").asDouble(), d.path("trajectory_similarity").asDouble());
    }

    private Uni<Void> step(TrainingJob job, JsonNode d) {
        int step = d.path("step").asInt();
        TrainingJob.Progress before = job.progress;
        if (before != null && step < before.currentStep() && before.resumedFromStep() == null) {
            return Uni.createFrom().voidItem();
        }
        int total = d.path("total_steps").asInt();
        Instant attemptStart = before != null && before.attemptStartedAt() != null ? before.attemptStartedAt()
                : job.updatedAt != null ? job.updatedAt : Instant.now();
        int resumedFrom = before != null && before.resumedFromStep() != null ? before.resumedFromStep() : 0;
        Long eta = null;
        long elapsed = Duration.between(attemptStart, Instant.now()).toSeconds();
        if (step > resumedFrom && elapsed >= 0) {
            eta = Math.round((double) elapsed / (step - resumedFrom) * (total - step));
        }
        job.progress = new TrainingJob.Progress(d.path("epoch").asInt(), d.path("total_epochs").asInt(), step, total,
                d.path("loss").asDouble(), d.path("learning_rate").asDouble(),
                (double) Math.round(d.path("tokens_per_second").asDouble()), eta,
                before == null ? null : before.resumedFromStep(), attemptStart, TrainingJob.Progress.percent(step, total),
                TrainingJob.Progress.TRAINING);
        job.updatedAt = Instant.now();
        Map<String, Object> data = map(d);
        data.remove("job_id");
        Uni<Void> recorded = transitions.record(job, TrainingJobEvent.STEP, "Step " + step + " of " + total + ", loss "
                + String.format(java.util.Locale.ROOT, "%.4f", d.path("loss").asDouble()), data);
        Instant last = announced.get(job.jobId);
        if (step == total || last == null || last.plus(ANNOUNCE_EVERY).isBefore(Instant.now())) {
            announced.put(job.jobId, Instant.now());
            recorded = recorded.flatMap(ignored -> transitions.announce(job, "progress", null));
        }
        if (step == total) {
            announced.remove(job.jobId);
        }
        return recorded;
    }

    private Uni<Void> started(TrainingJob job, JsonNode d) {
        int resumedFrom = d.path("resumed_from_step").asInt(0);
        Instant now = Instant.now();
        TrainingJob.Progress p = job.progress;
        // Until the first step of this launch: where it starts, and the loss it had there (when it resumes).
        job.progress = new TrainingJob.Progress(p == null ? null : p.currentEpoch(), p == null ? null : p.totalEpochs(),
                resumedFrom, d.path("total_steps").asInt(p == null ? 0 : p.totalSteps()), p == null ? null : p.loss(),
                p == null ? null : p.learningRate(), null, null, resumedFrom, now,
                TrainingJob.Progress.percent(resumedFrom, d.path("total_steps").asInt(p == null ? 0 : p.totalSteps())),
                TrainingJob.Progress.TRAINING);
        job.updatedAt = now;
        Map<String, Object> data = map(d);
        data.remove("job_id");
        String message = resumedFrom > 0
                ? "The trainer resumed from the checkpoint at step " + resumedFrom + " of " + d.path("total_steps").asInt()
                : "The trainer started: " + d.path("train_examples").asInt() + " training and "
                        + d.path("validation_examples").asInt() + " validation records, " + d.path("total_steps").asInt()
                        + " steps";
        Uni<Void> recorded = transitions.record(job, TrainingJobEvent.INFO, message, data);
        long skipped = d.path("skipped_records").asLong(0);
        if (skipped > 0) {
            StringBuilder why = new StringBuilder();
            d.path("skipped_reasons").fields().forEachRemaining(e -> why.append(why.isEmpty() ? "" : "; ")
                    .append(e.getValue().asLong()).append(" × ").append(e.getKey()));
            Map<String, Object> warning = new LinkedHashMap<>();
            warning.put("skipped_records", skipped);
            if (d.has("skipped_reasons")) {
                warning.put("skipped_reasons", map(d.get("skipped_reasons")));
            }
            recorded = recorded.flatMap(ignored -> transitions.record(job, TrainingJobEvent.WARNING, skipped
                    + (skipped == 1 ? " record was" : " records were") + " left out of training"
                    + (why.isEmpty() ? "" : ": " + why), warning));
        }
        long total = d.path("total_records").asLong(0);
        long sampled = d.path("sampled_records").asLong(total);
        if (total > sampled) {
            recorded = recorded.flatMap(ignored -> transitions.record(job, TrainingJobEvent.WARNING, "The dataset holds "
                    + total + " usable records; training uses a sample of " + sampled + " (config.max_train_records)",
                    Map.of("total_records", total, "sampled_records", sampled)));
        }
        return recorded;
    }

    /** A checkpoint the trainer wrote; announced as the job's event while it runs ({@code announce}). */
    private Uni<Void> checkpoint(TrainingJob job, JsonNode d, Instant time, boolean announce) {
        int step = d.path("step").asInt();
        TrainingCheckpoint c = new TrainingCheckpoint();
        c.jobId = job.jobId;
        c.step = step;
        c.loss = job.progress != null && job.progress.currentStep() == step ? job.progress.loss() : null;
        c.location = d.path("location").asText();
        c.createdAt = time == null ? Instant.now() : time;
        return checkpoints.exists(job.jobId, step).flatMap(known -> known ? Uni.createFrom().voidItem()
                : checkpoints.persist(c).flatMap(ignored -> transitions.record(job, TrainingJobEvent.CHECKPOINT,
                        "Checkpoint at step " + step + " in " + c.location, Map.of("step", step, "location", c.location)))
                        .flatMap(ignored -> !announce ? Uni.createFrom().voidItem() : transitions.announce(job, "checkpoint",
                                json.createObjectNode().put("step", step).put("location", c.location))));
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> map(JsonNode node) {
        return node == null || node.isNull() ? new LinkedHashMap<>() : json.convertValue(node, LinkedHashMap.class);
    }
}
