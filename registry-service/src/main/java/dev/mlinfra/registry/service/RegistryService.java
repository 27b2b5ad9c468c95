package dev.mlinfra.registry.service;

import dev.mlinfra.commons.api.Page;
import dev.mlinfra.commons.api.PageParams;
import dev.mlinfra.commons.error.ApiException;
import dev.mlinfra.commons.persistence.DatabaseErrors;
import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.commons.persistence.TextEnum;
import dev.mlinfra.registry.CurrentVersion;
import dev.mlinfra.registry.Model;
import dev.mlinfra.registry.ModelStatus;
import dev.mlinfra.registry.ModelVersion;
import dev.mlinfra.registry.Stage;
import dev.mlinfra.registry.StageChange;
import dev.mlinfra.registry.client.TrainingJobs;
import dev.mlinfra.registry.client.TrainingJobsClient;
import dev.mlinfra.registry.config.RegistryConfig;
import dev.mlinfra.registry.messaging.ModelEventsOutbox;
import dev.mlinfra.registry.repository.ModelRepository;
import dev.mlinfra.registry.repository.ModelVersionRepository;
import dev.mlinfra.registry.repository.StageChangeRepository;
import io.quarkus.hibernate.reactive.panache.common.WithTransaction;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * Models and their versions: registered from completed training jobs (the registry numbers the
 * versions), moved between stages under the team's promotion gates (a new production version
 * archives the one before), deleted. Every change is recorded in the model's history and announced
 * on {@code mlinfra.models}.
 */
@ApplicationScoped
public class RegistryService {

    private static final Logger LOG = Logger.getLogger(RegistryService.class);

    /** A model with the version that speaks for it, and how many versions it has. */
    public record ModelState(Model model, ModelVersion current, int versions, String message) {
    }

    /**
     * The fields of a registration, validated by the caller; with the request's Idempotency-Key and
     * its body's fingerprint, or nulls.
     */
    public record Registration(String modelId, String modelType, String description, String trainingJobId,
            Map<String, Object> reportedMetrics, Stage stage, String idempotencyKey, String requestHash) {
    }

    private final ModelRepository models;
    private final ModelVersionRepository versions;
    private final StageChangeRepository history;
    private final ModelEventsOutbox events;
    private final TrainingJobs trainingJobs;
    private final PromotionGates gates;
    private final RegistryConfig config;

    public RegistryService(ModelRepository models, ModelVersionRepository versions, StageChangeRepository history,
            ModelEventsOutbox events, TrainingJobs trainingJobs, PromotionGates gates, RegistryConfig config) {
        this.models = models;
        this.versions = versions;
        this.history = history;
        this.events = events;
        this.trainingJobs = trainingJobs;
        this.gates = gates;
        this.config = config;
    }

    /**
     * Registers a completed training job of the caller's team as the next version of a model
     * (creating the model with its first version). The version's artifact and evaluated metrics come
     * from training-service; the metrics sent are kept as reported ones. A retry with the
     * Idempotency-Key of a registration and the same body gets the version it registered, as it is now.
     */
    /** What a reported metric may be called: what the trainer's and MLflow's metric names are made of. */
    static final Pattern METRIC_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.\\-/ ]{0,99}");
    static final String METRIC_NAME_RULE = "1-100 letters, digits, '_', '.', '-', '/' and spaces, starting with a letter"
            + " or digit";

    public Uni<ModelState> register(Identity caller, Registration r) {
        if (!config.modelTypes().contains(r.modelType())) {
            throw ApiException.badRequest("Invalid field 'model_type': expected one of " + String.join(", ", config.modelTypes())
                    + ", got '" + r.modelType() + "'");
        }
        if (r.reportedMetrics() != null) {
            r.reportedMetrics().forEach((name, value) -> {
                if (!METRIC_NAME.matcher(name).matches()) {
                    throw ApiException.badRequest("Invalid metric name in field 'metrics': '" + (name.length() > 64
                            ? name.substring(0, 64) + "..." : name) + "'; a name is " + METRIC_NAME_RULE);
                }
                // 1e400 reads as infinity, which JSON cannot carry back: it was answered as the string "Infinity"
                if (value instanceof Double d && !Double.isFinite(d)) {
                    throw ApiException.badRequest("Invalid value for field 'metrics." + name + "': the number is too large to"
                            + " store; send a finite number");
                }
            });
        }
        return trainingJobs.job(r.trainingJobId())
                .onFailure(e -> !(e instanceof ApiException))
                .transform(e -> TrainingJobs.unavailable("training-service could not say whether training job '"
                        + r.trainingJobId() + "' is completed", e))
                .flatMap(job -> {
                    TrainingJobsClient.TrainingJob checked = checkedJob(r, job);
                    // Two registrations that create the same model, or of the same job into two models, at
                    // once: the database refuses the later insert. Tried again, it finds the first one's model
                    // (and, under its lock, that one's version of the key or the job, or adds the next version).
                    return Uni.createFrom().deferred(() -> insert(caller, r, checked))
                            .onFailure(DatabaseErrors::uniqueViolation).retry().atMost(2);
                });
    }

    private static TrainingJobsClient.TrainingJob checkedJob(Registration r, TrainingJobsClient.TrainingJob job) {
        if (job == null) {
            throw ApiException.notFound("Training job '" + r.trainingJobId() + "' not found");
        }
        if (!"completed".equals(job.status())) {
            throw ApiException.conflict("Training job '" + r.trainingJobId() + "' is " + job.status()
                    + "; only a completed job can be registered");
        }
        if (!r.modelType().equals(job.modelType())) {
            throw ApiException.badRequest("Invalid field 'model_type': training job '" + r.trainingJobId() + "' fine-tuned "
                    + job.modelType() + ", not " + r.modelType());
        }
        if (job.artifacts() == null || (job.artifacts().adapter() == null && job.artifacts().model() == null)) {
            throw ApiException.conflict("Training job '" + r.trainingJobId() + "' has no artifacts to register");
        }
        if (job.artifacts().adapter() == null) {
            // Registered, it would become the version that serves (and archive a production one) and fail to deploy.
            throw ApiException.conflict("Training job '" + r.trainingJobId() + "' fine-tuned every weight (use_lora: false);"
                    + " the platform serves LoRA adapters on its base models, so only such a job can be registered:"
                    + " train with use_lora: true");
        }
        return job;
    }

    /**
     * The model's row is locked first (where the model exists): registrations into one model, retries of
     * one among them, then look for their key and their job one after the other, each seeing what the one
     * before it committed.
     */
    @WithTransaction
    Uni<ModelState> insert(Identity caller, Registration r, TrainingJobsClient.TrainingJob job) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        return models.lockModel(caller.team(), r.modelId()).flatMap(existing -> {
            Uni<ModelVersion> earlier = r.idempotencyKey() == null ? Uni.createFrom().nullItem()
                    : versions.ofIdempotencyKey(caller.team(), r.idempotencyKey());
            return earlier.flatMap(replayed -> replayed != null ? replay(r, replayed) : register(caller, r, job, now, existing));
        });
    }

    /** The version a registration with the same Idempotency-Key created: the same body gets it as it is now, another a 409. */
    private Uni<ModelState> replay(Registration r, ModelVersion earlier) {
        if (!earlier.requestHash.equals(r.requestHash())) {
            throw ApiException.conflict("Idempotency-Key '" + r.idempotencyKey() + "' was used for another registration"
                    + " (model '" + earlier.modelId + "' version " + earlier.version + "); use a new key for a new registration");
        }
        LOG.infof("Idempotent retry with key %s returns model %s version %s", r.idempotencyKey(), earlier.modelId,
                earlier.version);
        return models.findById(earlier.modelRef)
                .flatMap(model -> versions.ofModel(model.id).map(all -> new ModelState(model, earlier, all.size(), null)));
    }

    private Uni<ModelState> register(Identity caller, Registration r, TrainingJobsClient.TrainingJob job, Instant now,
            Model existing) {
        return versions.ofJob(caller.team(), r.trainingJobId()).flatMap(taken -> {
            if (taken == null) {
                return registerNew(caller, r, job, now, existing);
            }
            if (r.idempotencyKey() != null && r.idempotencyKey().equals(taken.idempotencyKey)) {
                // a retry racing its first try, whose commit came between the look for the key and this one
                return replay(r, taken);
            }
            throw ApiException.conflict("Training job '" + r.trainingJobId() + "' is registered already, as model '"
                    + taken.modelId + "' version " + taken.version);
        });
    }

    /** {@code existing}: the model, locked; null when this registration creates it. */
    private Uni<ModelState> registerNew(Identity caller, Registration r, TrainingJobsClient.TrainingJob job, Instant now,
            Model existing) {
        if (existing != null && !existing.modelType.equals(r.modelType())) {
            throw ApiException.badRequest("Invalid field 'model_type': model '" + r.modelId() + "' is a " + existing.modelType
                    + " model; a version of another model type needs another model_id");
        }
        Model model = existing != null ? existing : newModel(caller.team(), r, now);
        return (existing != null ? Uni.createFrom().item(model) : models.persistAndFlush(model))
                .flatMap(m -> versions.ofModel(m.id).flatMap(known -> addVersion(caller, m, known, r, job, now)));
    }

    private static Model newModel(String team, Registration r, Instant now) {
        Model m = new Model();
        m.team = team;
        m.modelId = r.modelId();
        m.modelType = r.modelType();
        m.description = r.description() == null ? "" : r.description();
        m.createdAt = now;
        m.updatedAt = now;
        m.versions = 0;
        // set for real once its first version exists (same transaction)
        m.currentVersion = ModelVersion.versionName(0);
        m.currentStage = Stage.NONE;
        m.status = ModelStatus.ACTIVE;
        return m;
    }

    private Uni<ModelState> addVersion(Identity caller, Model model, List<ModelVersion> known, Registration r,
            TrainingJobsClient.TrainingJob job, Instant now) {
        ModelVersion v = new ModelVersion();
        v.modelRef = model.id;
        v.team = model.team;
        v.modelId = model.modelId;
        v.minor = model.versions;
        v.version = ModelVersion.versionName(v.minor);
        v.trainingJobId = r.trainingJobId();
        v.artifact = job.artifacts().adapter();
        v.metrics = job.metrics() == null ? Map.of() : job.metrics();
        v.reportedMetrics = r.reportedMetrics() == null ? Map.of() : r.reportedMetrics();
        v.stage = Stage.NONE;
        v.createdAt = now;
        v.updatedAt = now;
        v.idempotencyKey = r.idempotencyKey();
        v.requestHash = r.requestHash();
        model.versions++;
        model.updatedAt = now;
        if (r.description() != null) {
            model.description = r.description();
        }
        Stage wanted = r.stage() == null ? Stage.NONE : r.stage();
        String refused = wanted == Stage.NONE ? null : gates.refusal(model.team, wanted, v.metrics).orElse(null);
        if (refused != null) {
            throw ApiException.conflict("Version " + v.version + " of '" + model.modelId + "' cannot be registered into "
                    + wanted.value() + ": " + refused);
        }
        List<ModelVersion> all = new ArrayList<>(known);
        all.add(v);
        return versions.persist(v)
                .flatMap(ignored -> record(model, v, null, Stage.NONE, caller.keyId(), now,
                        "Registered from training job " + v.trainingJobId))
                .flatMap(ignored -> {
                    // registered as none first, so every consumer sees the version before it moves
                    CurrentVersion.apply(model, all);
                    return events.registered(model, v);
                })
                .flatMap(ignored -> wanted == Stage.NONE ? Uni.createFrom().item((String) null)
                        : move(caller, model, all, v, wanted, now))
                .map(message -> {
                    LOG.infof("Model %s/%s version %s registered from %s (%s)", model.team, model.modelId, v.version,
                            v.trainingJobId, v.stage.value());
                    return new ModelState(model, v, all.size(), message);
                });
    }

    /** The model and its current version. */
    public Uni<ModelState> get(String team, String modelId) {
        return models.findModel(team, modelId).onItem().ifNull().failWith(() -> notFound(modelId))
                .flatMap(m -> versions.ofModel(m.id).map(all -> new ModelState(m, CurrentVersion.of(all), all.size(), null)));
    }

    /** {@code modelType}, {@code status} and {@code stage} are the raw query values (null: no filter). */
    public Uni<Page<Model>> list(String team, String modelType, String status, String stage, PageParams page) {
        if (modelType != null && !config.modelTypes().contains(modelType)) {
            throw ApiException.badRequest("Invalid query parameter 'model_type': expected one of "
                    + String.join(", ", config.modelTypes()) + ", got '" + modelType + "'");
        }
        ModelStatus s = status == null ? null : TextEnum.parse("query parameter 'status'", status, ModelStatus.ALL);
        Stage st = stage == null ? null : TextEnum.parse("query parameter 'stage'", stage, Stage.ALL);
        return models.list(team, modelType, s, st, page)
                .flatMap(items -> models.count(team, modelType, s, st).map(total -> Page.of("models", items, total, page)));
    }

    /** A model's versions, newest first. */
    public Uni<List<ModelVersion>> versions(String team, String modelId) {
        return models.findModel(team, modelId).onItem().ifNull().failWith(() -> notFound(modelId))
                .flatMap(m -> versions.ofModel(m.id));
    }

    /** A page of a model's stage changes, newest first. */
    public Uni<Page<StageChange>> history(String team, String modelId, PageParams page) {
        return models.findModel(team, modelId).onItem().ifNull().failWith(() -> notFound(modelId))
                .flatMap(m -> history.ofModel(m.id, page)
                        .flatMap(items -> history.count(m.id).map(total -> Page.of("history", items, total, page))));
    }

    /**
     * Moves a version (the newest when none is named) to a stage, if the team's gates allow it; a
     * version moved to production archives the model's production version before.
     */
    @WithTransaction
    public Uni<ModelState> changeStage(Identity caller, String modelId, Stage stage, String version) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        return models.lockModel(caller.team(), modelId).onItem().ifNull().failWith(() -> notFound(modelId))
                .flatMap(model -> versions.ofModel(model.id).flatMap(all -> {
                    ModelVersion v = version == null ? all.get(0) : all.stream().filter(x -> x.version.equals(version))
                            .findFirst().orElseThrow(() -> ApiException.notFound("Model '" + modelId + "' has no version "
                                    + version + " (it has " + all.stream().map(x -> x.version).toList() + ")"));
                    if (v.stage == stage) {
                        return Uni.createFrom().item(new ModelState(model, v, all.size(),
                                "Version " + v.version + " " + standing(stage) + " already"));
                    }
                    gates.refusal(model.team, stage, v.metrics).ifPresent(refusal -> {
                        throw ApiException.conflict("Promotion of version " + v.version + " of '" + modelId + "' to "
                                + stage.value() + " refused: " + refusal);
                    });
                    return move(caller, model, all, v, stage, now).map(message -> new ModelState(model, v, all.size(), message));
                }));
    }

    /** "is in production", "is archived", "has no stage". */
    private static String standing(Stage stage) {
        return switch (stage) {
            case NONE -> "has no stage";
            case ARCHIVED -> "is archived";
            default -> "is in " + stage.value();
        };
    }

    /** Moves {@code v} to {@code stage} (archiving the production version it replaces); the message says what happened. */
    private Uni<String> move(Identity caller, Model model, List<ModelVersion> all, ModelVersion v, Stage stage, Instant now) {
        List<ModelVersion> replaced = stage == Stage.PRODUCTION
                ? all.stream().filter(x -> x != v && x.stage == Stage.PRODUCTION).toList() : List.of();
        Stage from = v.stage;
        v.stage = stage;
        v.updatedAt = now;
        String message = "Version " + v.version + " " + standing(stage) + (replaced.isEmpty() ? ""
                : "; " + String.join(", ", replaced.stream().map(x -> x.version).toList())
                        + ", in production before, is archived");
        Uni<Void> archived = Multi.createFrom().iterable(replaced).onItem().transformToUniAndConcatenate(old -> {
            old.stage = Stage.ARCHIVED;
            old.updatedAt = now;
            return record(model, old, Stage.PRODUCTION, Stage.ARCHIVED, null, now, "Archived: " + v.version + " replaced it in production")
                    .flatMap(ignored -> events.stageChanged(model, old, Stage.PRODUCTION, null, now));
        }).collect().last().replaceWithVoid();
        return archived
                .flatMap(ignored -> record(model, v, from, stage, caller.keyId(), now, message))
                .flatMap(ignored -> events.stageChanged(model, v, from, caller.keyId(), now))
                .map(ignored -> {
                    CurrentVersion.apply(model, all);
                    model.updatedAt = now;
                    LOG.infof("Model %s/%s: %s by key %s", model.team, model.modelId, message, caller.keyId());
                    return message;
                });
    }

    private Uni<Void> record(Model model, ModelVersion v, Stage from, Stage to, String by, Instant at, String message) {
        StageChange c = new StageChange();
        c.modelRef = model.id;
        c.team = model.team;
        c.modelId = model.modelId;
        c.version = v.version;
        c.fromStage = from;
        c.toStage = to;
        c.changedBy = by;
        c.changedAt = at;
        c.message = message;
        return history.persist(c).replaceWithVoid();
    }

    /**
     * Deletes a model and its versions from the registry (the training jobs' artifacts stay). A model
     * with a version in production is deleted only with {@code force}.
     */
    @WithTransaction
    public Uni<Model> delete(Identity caller, String modelId, boolean force) {
        return models.lockModel(caller.team(), modelId).onItem().ifNull().failWith(() -> notFound(modelId))
                .flatMap(model -> versions.ofModel(model.id).flatMap(all -> {
                    List<String> serving = all.stream().filter(v -> v.stage == Stage.PRODUCTION).map(v -> v.version).toList();
                    if (!serving.isEmpty() && !force) {
                        throw ApiException.conflict("Model '" + modelId + "' has version " + String.join(", ", serving)
                                + " in production; delete it with ?force=true to take it out of service, or move it to"
                                + " archived first");
                    }
                    List<String> names = all.stream().sorted(java.util.Comparator.comparingInt(v -> v.minor))
                            .map(v -> v.version).toList();
                    return models.delete("id", model.id)
                            .flatMap(ignored -> events.deleted(model, names))
                            .invoke(() -> LOG.infof("Model %s/%s deleted with %d versions by key %s", model.team, modelId,
                                    names.size(), caller.keyId()))
                            .replaceWith(model);
                }));
    }

    static ApiException notFound(String modelId) {
        return ApiException.notFound("Model '" + modelId + "' not found");
    }
}
