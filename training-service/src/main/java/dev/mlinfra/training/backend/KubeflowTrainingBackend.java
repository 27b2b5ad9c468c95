package dev.mlinfra.training.backend;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlinfra.training.backend.TrainerExit.Outcome;
import dev.mlinfra.training.config.TrainingConfig;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.HttpURLConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * The cluster backend: each job's trainer is a Kubeflow Trainer {@code TrainJob}
 * ({@code trainer.kubeflow.org/v1alpha1}, Trainer 2.2 or later) in one namespace, made from a
 * ClusterTrainingRuntime referenced by name, with the trainer image, its command and
 * {@code train --spec-env MLINFRA_TRAINING_SPEC}, the job's spec in that variable (without the
 * object store's credentials or cluster addresses: those come from a Secret's keys), the nodes, the
 * GPUs of the job's model type per node, and the configured placement as a runtime patch. The
 * TrainJob is labelled with the team and the job, and has no owner: this service is not part of the
 * cluster's ownership chain, and a TrainJob outlives it as a trainer process outlives the local one.
 *
 * <p>An informer follows the namespace's TrainJobs of this service (its first list after a start
 * finds those that ended meanwhile): {@code Complete} ends the job's trainer as trained,
 * {@code Failed} as failed with the condition's reason and message, {@code Suspended} (queued by
 * Kueue, say) is noted in the job's history while the job keeps its place. Steps come from the
 * trainer on {@code mlinfra.training.progress}, as from a local trainer.
 *
 * <p>Cancel deletes the TrainJob (its JobSet, Jobs and pods go with it; the trainer gets SIGTERM and
 * checkpoints if its grace period allows) rather than suspending it: a cancelled job never resumes
 * (a new job starts anew, from its own output), its checkpoints live in the object store rather than
 * in the pods, Kueue owns {@code spec.suspend} of the jobs it queues, and deleting needs no
 * permission to change TrainJobs (the service may get, list, watch, create and delete them only).
 */
@ApplicationScoped
@Identifier(KubeflowTrainingBackend.NAME)
public class KubeflowTrainingBackend implements TrainingBackend {

    public static final String NAME = "kubeflow";
    /** The environment variable that carries the job's spec to the trainer. */
    public static final String SPEC_ENV = "MLINFRA_TRAINING_SPEC";
    /** The trainer's arguments after its command. */
    public static final List<String> ARGS = List.of("train", "--spec-env", SPEC_ENV);
    /** Keys of the trainer Secret that become the trainer's variables of the same name (true: required). */
    public static final Map<String, Boolean> SECRET_KEYS = secretKeys();
    public static final String JOB_LABEL = "mlinfra.dev/job-id";
    public static final String TEAM_LABEL = "mlinfra.dev/team";
    /** Which launch of the job a TrainJob is (1 for the first); its end carries it. */
    public static final String ATTEMPT_LABEL = "mlinfra.dev/attempt";
    public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
    public static final String MANAGED_BY = "training-service";
    /** Owner of this service's entry in a TrainJob's runtimePatches. */
    public static final String PATCH_MANAGER = "mlinfra.dev/training-service";
    /** The replicated job of the trainer nodes in the torch runtimes ({@code torch-distributed}). */
    public static final String TRAINER_REPLICATED_JOB = "node";
    public static final String GPU_RESOURCE = "nvidia.com/gpu";
    static final String CLUSTER_TRAINING_RUNTIME = "ClusterTrainingRuntime";

    private static final Logger LOG = Logger.getLogger(KubeflowTrainingBackend.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String JOB_INDEX = "job";
    /** How long a question about trainers waits for the informer's first list. */
    private static final Duration SYNC_TIMEOUT = Duration.ofSeconds(30);
    /** Beyond the informer's first list, how long creating a launch's TrainJob may take. */
    private static final Duration LAUNCH_TIME = Duration.ofSeconds(30);
    /** How often the informer hands every TrainJob to its handler again (a missed event is seen then). */
    private static final Duration RESYNC = Duration.ofMinutes(5);
    /** TrainJob names tried per launch when earlier attempts' names are taken. */
    private static final int NAME_TRIES = 5;

    private final KubernetesClient client;
    private final TrainingConfig.Kubeflow config;
    private final String namespace;
    /** TrainJobs this service deleted (cancel), so their disappearance reads as stopped, not lost. */
    private final Set<String> deleted = ConcurrentHashMap.newKeySet();
    /** TrainJobs whose end was reported; TrainJobs seen suspended. */
    private final Set<String> reported = ConcurrentHashMap.newKeySet();
    private final Set<String> suspended = ConcurrentHashMap.newKeySet();
    /** The trainer status last passed on, per TrainJob (only changes are). */
    private final Map<String, TrainJob.TrainerStatus> progressSeen = new ConcurrentHashMap<>();
    private volatile Consumer<TrainerExit> exitListener = exit -> {
    };
    private volatile BiConsumer<String, String> noteListener = (job, note) -> {
    };
    private volatile Consumer<TrainerProgress> progressListener = progress -> {
    };
    private SharedIndexInformer<TrainJob> informer;
    private CompletableFuture<Void> synced;

    public KubeflowTrainingBackend(KubernetesClient client, TrainingConfig config) {
        this.client = client;
        this.config = config.kubeflow();
        this.namespace = this.config.namespace().orElseGet(() -> client.getNamespace() == null ? "default" : client.getNamespace());
    }

    private static Map<String, Boolean> secretKeys() {
        Map<String, Boolean> keys = new LinkedHashMap<>();
        keys.put("MLINFRA_S3_ENDPOINT", true);
        keys.put("MLINFRA_S3_ACCESS_KEY", true);
        keys.put("MLINFRA_S3_SECRET_KEY", true);
        keys.put("MLINFRA_S3_REGION", false);
        keys.put("MLINFRA_KAFKA_BOOTSTRAP_SERVERS", true);
        return java.util.Collections.unmodifiableMap(keys);
    }

    @Override
    public String name() {
        return NAME;
    }

    public String namespace() {
        return namespace;
    }

    private MixedOperation<TrainJob, KubernetesResourceList<TrainJob>, Resource<TrainJob>> trainJobs() {
        return client.resources(TrainJob.class);
    }

    /** Starts following this service's TrainJobs; questions about trainers wait for its first list. */
    @PostConstruct
    void watch() {
        informer = trainJobs().inNamespace(namespace).withLabel(MANAGED_BY_LABEL, MANAGED_BY).runnableInformer(RESYNC.toMillis());
        informer.addIndexers(Map.of(JOB_INDEX, tj -> List.of(jobOf(tj))));
        informer.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(TrainJob trainJob) {
                observe(trainJob);
            }

            @Override
            public void onUpdate(TrainJob before, TrainJob trainJob) {
                observe(trainJob);
            }

            @Override
            public void onDelete(TrainJob trainJob, boolean finalStateUnknown) {
                gone(trainJob);
            }
        });
        // The API may be away at start (or later): keep trying; questions fail until the first list.
        informer.exceptionHandler((started, e) -> {
            LOG.warnf("Following the TrainJobs of namespace %s: %s; retrying", namespace, e.toString());
            return true;
        });
        synced = informer.start().toCompletableFuture();
        LOG.infof("Following the TrainJobs of namespace %s (runtime %s, image %s)", namespace, config.runtime(), config.image());
    }

    @PreDestroy
    void close() {
        if (informer != null) {
            informer.close();
        }
    }

    @Override
    public void onExit(Consumer<TrainerExit> listener) {
        this.exitListener = listener;
    }

    @Override
    public void onNote(BiConsumer<String, String> listener) {
        this.noteListener = listener;
    }

    @Override
    public void onProgress(Consumer<TrainerProgress> listener) {
        this.progressListener = listener;
    }

    // ------------------------------------------------------------------ status

    @Override
    public BackendStatus status() {
        String image = config.image();
        Optional<String> imageProblem = imageProblem(image);
        if (imageProblem.isPresent()) {
            return BackendStatus.unable(NAME, image, null, imageProblem.get());
        }
        try {
            trainJobs().inNamespace(namespace).list(new ListOptionsBuilder().withLimit(1L).build());
            return BackendStatus.ready(NAME, image, null);
        } catch (KubernetesClientException e) {
            return BackendStatus.unable(NAME, image, null, describe(e, "list"));
        }
    }

    /** Why an image reference is not pinned: no tag, or {@code latest}. */
    static Optional<String> imageProblem(String image) {
        String last = image.substring(image.lastIndexOf('/') + 1);
        if (image.contains("@sha256:")) {
            return Optional.empty();
        }
        int colon = last.indexOf(':');
        if (colon < 0 || last.substring(colon + 1).isBlank() || last.substring(colon + 1).equals("latest")) {
            return Optional.of("the trainer image " + image + " is not pinned: set mlinfra.training.kubeflow.image to a"
                    + " tag (mlinfra/llm-engine:0.1.0) or a digest, never latest");
        }
        return Optional.empty();
    }

    /** A failed API call in words to act on. */
    private String describe(KubernetesClientException e, String verb) {
        int code = e.getCode();
        if (code == HttpURLConnection.HTTP_NOT_FOUND) {
            return "the cluster does not serve trainjobs." + TrainJob.GROUP + "/" + TrainJob.VERSION + " in namespace "
                    + namespace + ": install Kubeflow Trainer (2.2 or later) and its CRDs";
        }
        if (code == HttpURLConnection.HTTP_UNAUTHORIZED || code == HttpURLConnection.HTTP_FORBIDDEN) {
            return "training-service may not " + verb + " trainjobs." + TrainJob.GROUP + " in namespace " + namespace
                    + " (HTTP " + code + "): grant its service account get, list, watch, create and delete on them there";
        }
        return "the Kubernetes API at " + client.getMasterUrl() + " cannot " + verb + " trainjobs in namespace " + namespace
                + ": " + (code > 0 ? "HTTP " + code + " " : "") + e.getMessage();
    }

    // ------------------------------------------------------------------ launch

    @Override
    public void launch(String jobId, int attempt, ObjectNode spec) {
        imageProblem(config.image()).ifPresent(problem -> {
            throw new LaunchException(problem, null);
        });
        int n = trainJobsOf(jobId).size() + 1;
        for (int i = 0; i < NAME_TRIES; i++, n++) {
            TrainJob trainJob = trainJob(jobId, jobId + "-" + n, attempt, spec);
            try {
                trainJobs().inNamespace(namespace).resource(trainJob).create();
                LOG.infof("TrainJob %s/%s created for %s (launch %d, runtime %s, image %s)", namespace,
                        trainJob.getMetadata().getName(), jobId, attempt, config.runtime(), config.image());
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                    throw new LaunchException("the TrainJob of " + jobId + " could not be created: " + describe(e, "create"), e);
                }
            }
        }
        throw new LaunchException("the TrainJob of " + jobId + " could not be created: the names " + jobId + "-1 to "
                + jobId + "-" + (n - 1) + " are taken in namespace " + namespace, null);
    }

    /** The TrainJob of one launch of a job. */
    TrainJob trainJob(String jobId, String name, int attempt, ObjectNode spec) {
        TrainJob trainJob = new TrainJob();
        trainJob.getMetadata().setName(name);
        trainJob.getMetadata().setNamespace(namespace);
        trainJob.getMetadata().setLabels(Map.of(JOB_LABEL, jobId, TEAM_LABEL, spec.path("team").asText(),
                ATTEMPT_LABEL, Integer.toString(attempt), MANAGED_BY_LABEL, MANAGED_BY));
        TrainJob.Spec s = new TrainJob.Spec();
        s.runtimeRef = new TrainJob.RuntimeRef(config.runtime(), TrainJob.GROUP, CLUSTER_TRAINING_RUNTIME);
        TrainJob.Trainer trainer = new TrainJob.Trainer();
        trainer.image = config.image();
        trainer.command = List.copyOf(config.command());
        trainer.args = ARGS;
        trainer.env = env(spec);
        trainer.numNodes = config.numNodes();
        int gpus = config.gpus().getOrDefault(spec.path("model_type").asText(), 0);
        if (gpus > 0) {
            trainer.resourcesPerNode = new ResourceRequirementsBuilder()
                    .addToLimits(GPU_RESOURCE, new Quantity(Integer.toString(gpus))).build();
        }
        s.trainer = trainer;
        List<Toleration> tolerations = config.tolerations().orElse(List.of()).stream().map(KubeflowTrainingBackend::toleration).toList();
        if (!config.nodeSelector().isEmpty() || !tolerations.isEmpty()) {
            s.runtimePatches = List.of(TrainJob.RuntimePatch.placement(PATCH_MANAGER, TRAINER_REPLICATED_JOB,
                    new java.util.TreeMap<>(config.nodeSelector()), tolerations));
        }
        trainJob.setSpec(s);
        return trainJob;
    }

    /**
     * The trainer's variables: the spec without what the Secret gives (the object store, Kafka's
     * address), so that neither credentials nor cluster addresses are written into the TrainJob.
     */
    private List<EnvVar> env(ObjectNode spec) {
        ObjectNode carried = spec.deepCopy();
        carried.remove("s3");
        if (carried.get("kafka") instanceof ObjectNode kafka) {
            kafka.remove("bootstrap_servers");
        }
        List<EnvVar> env = new ArrayList<>();
        try {
            env.add(new EnvVar(SPEC_ENV, JSON.writeValueAsString(carried), null));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        SECRET_KEYS.forEach((key, required) -> env.add(new EnvVarBuilder().withName(key).withNewValueFrom()
                .withNewSecretKeyRef(key, config.secret(), required ? null : Boolean.TRUE).endValueFrom().build()));
        return env;
    }

    /** {@code key}, {@code key=value}, {@code key:Effect} or {@code key=value:Effect}. */
    static Toleration toleration(String text) {
        String rest = text.strip();
        String effect = null;
        int colon = rest.lastIndexOf(':');
        if (colon >= 0) {
            effect = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
        }
        int eq = rest.indexOf('=');
        TolerationBuilder t = new TolerationBuilder().withEffect(effect);
        return eq < 0 ? t.withKey(rest).withOperator("Exists").build()
                : t.withKey(rest.substring(0, eq)).withOperator("Equal").withValue(rest.substring(eq + 1)).build();
    }

    // ------------------------------------------------------------------ stop

    /** Deletes the job's TrainJobs that have not finished: the cluster stops their pods (SIGTERM, then SIGKILL). */
    @Override
    public void stop(String jobId) {
        for (TrainJob trainJob : trainJobsOf(jobId)) {
            if (!trainJob.finished()) {
                String name = trainJob.getMetadata().getName();
                deleted.add(name);
                LOG.infof("Deleting TrainJob %s/%s of %s", namespace, name, jobId);
                try {
                    trainJobs().inNamespace(namespace).withName(name).delete();
                } catch (KubernetesClientException e) {
                    deleted.remove(name);
                    throw new IllegalStateException("the TrainJob " + name + " could not be deleted: " + describe(e, "delete"), e);
                }
            }
        }
    }

    /** The same as {@link #stop}: once deleted, the cluster ends the pods within their grace period. */
    @Override
    public void kill(String jobId) {
        stop(jobId);
    }

    // ------------------------------------------------------------------ following

    @Override
    public boolean running(String jobId) {
        return trainJobsOf(jobId).stream().anyMatch(tj -> !tj.finished());
    }

    /** The end of the job's latest launch: the TrainJob with the highest launch number, else the newest one. */
    @Override
    public Optional<TrainerExit> lastExit(String jobId) {
        return trainJobsOf(jobId).stream()
                .max(Comparator.comparing(KubeflowTrainingBackend::attemptOf, Comparator.nullsFirst(Comparator.naturalOrder()))
                        .thenComparing((TrainJob tj) -> tj.getMetadata().getCreationTimestamp(), Comparator.nullsFirst(Comparator.naturalOrder()))
                        .thenComparing(tj -> tj.getMetadata().getName()))
                .flatMap(this::exitOf);
    }

    /** Another replica may be creating a launch's TrainJob, after waiting up to {@link #SYNC_TIMEOUT} for its informer. */
    @Override
    public Duration launchSettles() {
        return SYNC_TIMEOUT.plus(LAUNCH_TIME);
    }

    /** The job's TrainJobs as the informer knows them; waits for its first list. */
    private List<TrainJob> trainJobsOf(String jobId) {
        try {
            synced.get(SYNC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("the TrainJobs of namespace " + namespace + " cannot be listed yet: "
                    + (e.getCause() == null ? e : e.getCause()).toString(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return informer.getIndexer().byIndex(JOB_INDEX, jobId);
    }

    private static String jobOf(TrainJob trainJob) {
        Map<String, String> labels = trainJob.getMetadata().getLabels();
        return labels == null ? "" : labels.getOrDefault(JOB_LABEL, "");
    }

    /** Which launch of its job a TrainJob is; null for one without the label (created before it was set). */
    static Integer attemptOf(TrainJob trainJob) {
        Map<String, String> labels = trainJob.getMetadata().getLabels();
        String attempt = labels == null ? null : labels.get(ATTEMPT_LABEL);
        try {
            return attempt == null ? null : Integer.valueOf(attempt);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private Optional<TrainerExit> exitOf(TrainJob trainJob) {
        String jobId = jobOf(trainJob);
        String name = trainJob.getMetadata().getName();
        Optional<Condition> failed = trainJob.condition(TrainJob.FAILED);
        if (failed.isPresent()) {
            Condition c = failed.get();
            return Optional.of(new TrainerExit(jobId, Outcome.FAILED, null, "the TrainJob " + name + " failed"
                    + (c.getReason() == null ? "" : " (" + c.getReason() + ")")
                    + (c.getMessage() == null || c.getMessage().isBlank() ? "" : ": " + c.getMessage()), attemptOf(trainJob)));
        }
        if (trainJob.condition(TrainJob.COMPLETE).isPresent()) {
            return Optional.of(new TrainerExit(jobId, Outcome.SUCCEEDED, null, null, attemptOf(trainJob)));
        }
        return Optional.empty();
    }

    private void observe(TrainJob trainJob) {
        String jobId = jobOf(trainJob);
        String name = trainJob.getMetadata().getName();
        if (jobId.isEmpty()) {
            return;
        }
        Optional<Condition> suspension = trainJob.condition(TrainJob.SUSPENDED);
        if (suspension.isPresent() && !trainJob.finished() && suspended.add(name)) {
            Condition c = suspension.get();
            note(jobId, "The TrainJob " + name + " is suspended in the cluster" + (c.getReason() == null ? "" : " (" + c.getReason() + ")")
                    + (c.getMessage() == null || c.getMessage().isBlank() ? "" : ": " + c.getMessage())
                    + "; it waits there (e.g. queued by Kueue until its quota admits it)");
        } else if (suspension.isEmpty() && suspended.remove(name) && !trainJob.finished()) {
            note(jobId, "The TrainJob " + name + " was admitted; its trainer starts");
        }
        TrainJob.TrainerStatus progress = trainJob.getStatus() == null ? null : trainJob.getStatus().trainerStatus;
        if (progress != null && progress.progressPercentage() != null && !trainJob.finished()
                && !progress.equals(progressSeen.put(name, progress))) {
            TrainerProgress p = new TrainerProgress(jobId, Math.max(0, Math.min(100, progress.progressPercentage())),
                    progress.estimatedRemainingSeconds() == null ? null : progress.estimatedRemainingSeconds().longValue());
            Infrastructure.getDefaultWorkerPool().execute(() -> {
                try {
                    progressListener.accept(p);
                } catch (RuntimeException e) {
                    LOG.warnf("Could not record the progress of %s: %s", jobId, e.toString());
                }
            });
        }
        exitOf(trainJob).ifPresent(exit -> {
            if (reported.add(name)) {
                report(exit);
            }
        });
    }

    private void gone(TrainJob trainJob) {
        String name = trainJob.getMetadata().getName();
        suspended.remove(name);
        progressSeen.remove(name);
        boolean ours = deleted.remove(name);
        if (reported.remove(name)) {
            return; // its end was reported when it finished
        }
        String jobId = jobOf(trainJob);
        report(ours ? new TrainerExit(jobId, Outcome.STOPPED, null, "the TrainJob " + name + " was deleted", attemptOf(trainJob))
                : new TrainerExit(jobId, Outcome.LOST, null, "the TrainJob " + name + " was deleted outside training-service",
                        attemptOf(trainJob)));
    }

    private void report(TrainerExit exit) {
        LOG.infof("Trainer of %s ended: %s%s", exit.jobId(), exit.outcome(), exit.reason() == null ? "" : " (" + exit.reason() + ")");
        Infrastructure.getDefaultWorkerPool().execute(() -> {
            try {
                exitListener.accept(exit);
            } catch (RuntimeException e) {
                LOG.errorf(e, "Could not record the end of the trainer of %s; the next reconciliation will", exit.jobId());
            }
        });
    }

    private void note(String jobId, String message) {
        LOG.infof("%s: %s", jobId, message);
        Infrastructure.getDefaultWorkerPool().execute(() -> {
            try {
                noteListener.accept(jobId, message);
            } catch (RuntimeException e) {
                LOG.warnf("Could not note in the history of %s: %s", jobId, e.toString());
            }
        });
    }
}
