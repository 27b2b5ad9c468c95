package dev.mlinfra.registry.mirror;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.events.ModelEvents;
import dev.mlinfra.registry.Stage;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Applies the registry's model events to MLflow. Runs inside the transaction that records the
 * event as processed ({@code EventInbox.applyOnce}), so its own rows commit with that record, and
 * an attempt that fails leaves nothing behind here; what it did in MLflow before failing is safe to
 * do again ({@link MlflowRegistry}).
 * <ul>
 * <li>A registration creates the registered model {@code <team>.<model_id>} the first time, then an
 * MLflow version of it whose tags name our version, team, training job and metrics; the version
 * number MLflow gives is remembered ({@link MirroredVersion}).</li>
 * <li>A stage change moves the aliases {@code staging} and {@code production} (MLflow's replacement for
 * stages): the version entering such a stage gets its alias; a version leaving one takes the alias
 * with it unless another version holds it by then (a promotion and the archiving of the version it
 * replaces arrive as two events, in either order). With {@code transition-stages}, MLflow's stage
 * is moved too, without archiving other versions (the registry announces that archiving itself).</li>
 * <li>A deletion deletes the registered model.</li>
 * </ul>
 * A stage change of a version the mirror never saw registered (the mirror was switched on later),
 * or of one MLflow has lost (deleted there by hand), creates that version from what the event says.
 */
@ApplicationScoped
public class MlflowMirror {

    private static final Logger LOG = Logger.getLogger(MlflowMirror.class);
    static final String TAG_PREFIX = "mlinfra.";
    static final String METRIC_TAG_PREFIX = "mlinfra.metric.";
    static final String REPORTED_METRIC_TAG_PREFIX = "mlinfra.reported_metric.";
    /** Longest tag value sent: what MLflow 2.x servers accept at the least. */
    static final int MAX_TAG_VALUE = 5000;

    /** An event the mirror acts on, read and checked. */
    public sealed interface Command {
        ModelName model();
    }

    public record Register(ModelName model, ModelEvents.Registered data, Stage stage) implements Command {
    }

    public record Move(ModelName model, ModelEvents.StageChanged data, Stage stage) implements Command {
    }

    public record Delete(ModelName model) implements Command {
    }

    private final MlflowRegistry mlflow;
    private final MirroredVersionRepository versions;
    private final ObjectMapper json;
    private final boolean transitionStages;
    private final Clock clock = Clock.systemUTC();

    public MlflowMirror(MlflowRegistry mlflow, MirroredVersionRepository versions, ObjectMapper json,
            MlflowMirrorConfig config) {
        this.mlflow = mlflow;
        this.versions = versions;
        this.json = json;
        this.transitionStages = config.transitionStages();
    }

    /** Applies the command; call inside the transaction of {@code EventInbox.applyOnce}. */
    public Uni<Void> apply(Command command) {
        return switch (command) {
            case Register r -> mirror(new Target(r.model(), r.data().version(), r.stage(),
                    () -> modelTags(r.model(), r.data().modelType()), r.data().description(), () -> versionTags(r)));
            case Move m -> mirror(new Target(m.model(), m.data().version(), m.stage(),
                    () -> modelTags(m.model(), m.data().modelType()), null, () -> versionTags(m)));
            case Delete d -> mlflow.deleteModel(d.model().mlflowName())
                    .chain(() -> versions.forgetModel(d.model())).replaceWithVoid();
        };
    }

    /** One of our versions in a stage, and what it takes to create it in MLflow should it be missing there. */
    private record Target(ModelName model, String version, Stage stage, Supplier<List<MlflowApi.Tag>> modelTags,
            String description, Supplier<Source> source) {

        String name() {
            return model.mlflowName();
        }
    }

    /**
     * Mirrors the version and its stage. Should MLflow have lost the version the mirror remembers
     * (someone deleted it, or its model, by hand), it is created anew and given its stage.
     */
    private Uni<Void> mirror(Target t) {
        return versions.ofModel(t.model()).map(ArrayList::new).flatMap(known -> mirrored(t, known)
                .flatMap(v -> move(t, known, v, v.stage).onFailure(MlflowMirror::gone).recoverWithUni(e -> {
                    LOG.warnf("MLflow version %s of %s (our %s) is gone: %s; mirroring it anew", v.mlflowVersion, t.name(),
                            v.version, e.getMessage());
                    return findOrCreate(t, true).invoke(number -> v.mlflowVersion = number)
                            .chain(() -> move(t, known, v, Stage.NONE));
                })));
    }

    /**
     * The mirrored version of our version: remembered, or else found in MLflow or created there
     * ({@link #findOrCreate}), with the registered model first when the mirror knows no version of it
     * or MLflow has lost it.
     */
    private Uni<MirroredVersion> mirrored(Target t, List<MirroredVersion> known) {
        Optional<MirroredVersion> remembered = known.stream().filter(v -> v.version.equals(t.version())).findFirst();
        if (remembered.isPresent()) {
            return Uni.createFrom().item(remembered.get());
        }
        return findOrCreate(t, known.isEmpty())
                .onFailure(MlflowMirror::gone).recoverWithUni(e -> findOrCreate(t, true))
                .chain(number -> {
                    MirroredVersion v = MirroredVersion.of(t.model(), t.version(), number, clock.instant());
                    known.add(v);
                    return versions.persist(v);
                });
    }

    /**
     * The number of the MLflow version tagged with our version: found (an earlier attempt created it
     * and its answer or its commit was lost), else created.
     */
    private Uni<String> findOrCreate(Target t, boolean createModel) {
        Uni<Void> model = createModel ? mlflow.createModel(t.name(), t.modelTags().get(), t.description())
                : Uni.createFrom().voidItem();
        return model.chain(() -> mlflow.findVersion(t.name(), t.version()))
                .chain(found -> found.map(n -> Uni.createFrom().item(n)).orElseGet(() -> {
                    Source s = t.source().get();
                    return mlflow.createVersion(t.name(), s.artifact(), s.tags());
                }));
    }

    /**
     * Mirrors the version's move from {@code from} to the target's stage: MLflow's stage if asked
     * for, the alias of the new stage, and the old stage's alias. A stage's alias points at the
     * version that moved into it last: leaving, the version takes it away when no other version is
     * in that stage, and hands it to the one that moved in last before it when the alias was its own.
     */
    private Uni<Void> move(Target t, List<MirroredVersion> known, MirroredVersion v, Stage from) {
        String name = t.name();
        Stage to = t.stage();
        List<Supplier<Uni<Void>>> calls = new ArrayList<>();
        if (transitionStages && from != to) {
            calls.add(() -> mlflow.transition(name, v.mlflowVersion, mlflowStage(to)));
        }
        alias(to).ifPresent(alias -> calls.add(() -> mlflow.setAlias(name, alias, v.mlflowVersion)));
        if (from != to && alias(from).isPresent()) {
            String fromAlias = alias(from).get();
            Optional<MirroredVersion> latest = known.stream().filter(other -> other != v && other.stage == from)
                    .max(Comparator.comparing((MirroredVersion other) -> other.mirroredAt));
            if (latest.isEmpty()) {
                calls.add(() -> mlflow.deleteAlias(name, fromAlias));
            } else if (!latest.get().mirroredAt.isAfter(v.mirroredAt)) {
                String next = latest.get().mlflowVersion;
                calls.add(() -> mlflow.setAlias(name, fromAlias, next));
            }
        }
        Uni<Void> done = Uni.createFrom().voidItem();
        for (Supplier<Uni<Void>> call : calls) {
            done = done.chain(() -> call.get());
        }
        return done.invoke(() -> {
            v.stage = to;
            v.mirroredAt = clock.instant();
            LOG.debugf("Mirrored %s %s as MLflow version %s of %s, stage %s", t.model().modelId(), v.version,
                    v.mlflowVersion, name, to.value());
        });
    }

    /** The stage's name in MLflow's (deprecated) stages. */
    static String mlflowStage(Stage stage) {
        return switch (stage) {
            case NONE -> "None";
            case STAGING -> "Staging";
            case PRODUCTION -> "Production";
            case ARCHIVED -> "Archived";
        };
    }

    /** The MLflow alias that points at the model's version in this stage; none for none and archived. */
    static Optional<String> alias(Stage stage) {
        return stage == Stage.STAGING || stage == Stage.PRODUCTION ? Optional.of(stage.value()) : Optional.empty();
    }

    /** MLflow does not know the model or version the call was about. */
    private static boolean gone(Throwable e) {
        return e instanceof MlflowError m && m.doesNotExist();
    }

    /** What an MLflow version is created from: where its adapter is, and its tags. */
    private record Source(String artifact, List<MlflowApi.Tag> tags) {
    }

    private static List<MlflowApi.Tag> modelTags(ModelName model, String modelType) {
        List<MlflowApi.Tag> tags = new ArrayList<>();
        add(tags, TAG_PREFIX + "team", model.team());
        add(tags, TAG_PREFIX + "model_id", model.modelId());
        add(tags, TAG_PREFIX + "model_type", modelType);
        return tags;
    }

    private Source versionTags(Register r) {
        ModelEvents.Registered data = r.data();
        List<MlflowApi.Tag> tags = commonTags(r.model(), data.version(), data.modelType(), data.trainingJobId());
        addMetrics(tags, METRIC_TAG_PREFIX, data.metrics());
        addMetrics(tags, REPORTED_METRIC_TAG_PREFIX, data.reportedMetrics());
        return new Source(data.artifact(), tags);
    }

    private Source versionTags(Move m) {
        ModelEvents.StageChanged data = m.data();
        return new Source(data.artifact(), commonTags(m.model(), data.version(), data.modelType(), data.trainingJobId()));
    }

    private static List<MlflowApi.Tag> commonTags(ModelName model, String version, String modelType, String trainingJobId) {
        List<MlflowApi.Tag> tags = new ArrayList<>();
        add(tags, MlflowRegistry.VERSION_TAG, version);
        add(tags, TAG_PREFIX + "team", model.team());
        add(tags, TAG_PREFIX + "model_type", modelType);
        add(tags, TAG_PREFIX + "training_job", trainingJobId);
        return tags;
    }

    /** One tag per metric, in name order; numbers as MLflow shows them, anything structured as JSON. */
    private void addMetrics(List<MlflowApi.Tag> tags, String prefix, Map<String, Object> metrics) {
        if (metrics == null) {
            return;
        }
        new TreeMap<>(metrics).forEach((metric, value) -> {
            if (value == null) {
                return;
            }
            String text;
            if (value instanceof String || value instanceof Number || value instanceof Boolean) {
                text = value.toString();
            } else {
                try {
                    text = json.writeValueAsString(value);
                } catch (JsonProcessingException e) {
                    text = value.toString();
                }
            }
            if (text.length() > MAX_TAG_VALUE) {
                LOG.warnf("Metric %s is too long for an MLflow tag (%d characters); left out", metric, text.length());
                return;
            }
            tags.add(new MlflowApi.Tag(prefix + metric, text));
        });
    }

    private static void add(List<MlflowApi.Tag> tags, String key, String value) {
        if (value != null && !value.isBlank()) {
            tags.add(new MlflowApi.Tag(key, value));
        }
    }
}
