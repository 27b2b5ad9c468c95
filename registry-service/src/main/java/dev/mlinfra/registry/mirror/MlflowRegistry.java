package dev.mlinfra.registry.mirror;

import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.eclipse.microprofile.rest.client.inject.RestClient;

/**
 * What the mirror does in MLflow, each operation safe to repeat: an answer lost on the way (a
 * timeout after MLflow acted) leads to the same call again, so "already exists" and "does not
 * exist" count as done where that is what the call was after, and a version is looked for before
 * one is created. Every call is bounded by {@code mlinfra.registry.mlflow.timeout}.
 */
@ApplicationScoped
public class MlflowRegistry {

    /** The tag of an MLflow version that names our version of it ({@code v1.0.0}). */
    public static final String VERSION_TAG = "mlinfra.version";
    /** Versions read per page when looking for one. */
    private static final int SEARCH_PAGE = 200;

    private final MlflowApi api;
    private final Duration timeout;

    public MlflowRegistry(@RestClient MlflowApi api, MlflowMirrorConfig config) {
        this.api = api;
        this.timeout = config.timeout();
    }

    /** Creates the registered model unless it exists. */
    public Uni<Void> createModel(String name, List<MlflowApi.Tag> tags, String description) {
        return bounded(api.createRegisteredModel(new MlflowApi.CreateRegisteredModel(name, tags, description)))
                .onFailure(e -> e instanceof MlflowError m && m.alreadyExists()).recoverWithNull();
    }

    /** Deletes the registered model with its versions, unless it is gone already. */
    public Uni<Void> deleteModel(String name) {
        return bounded(api.deleteRegisteredModel(new MlflowApi.DeleteRegisteredModel(name)))
                .onFailure(MlflowRegistry::doesNotExist).recoverWithNull();
    }

    /** The number of the MLflow version tagged with our version, if the model has one. */
    public Uni<Optional<String>> findVersion(String name, String version) {
        return findVersion("name='" + name + "'", version, null);
    }

    private Uni<Optional<String>> findVersion(String filter, String version, String pageToken) {
        return bounded(api.searchModelVersions(filter, SEARCH_PAGE, pageToken)).flatMap(page -> {
            Optional<String> found = orEmpty(page.modelVersions()).stream()
                    .filter(v -> orEmpty(v.tags()).stream().anyMatch(t -> VERSION_TAG.equals(t.key()) && version.equals(t.value())))
                    .map(MlflowApi.ModelVersion::version)
                    .findFirst();
            if (found.isPresent() || page.nextPageToken() == null || page.nextPageToken().isEmpty()) {
                return Uni.createFrom().item(found);
            }
            return findVersion(filter, version, page.nextPageToken());
        });
    }

    /** Creates the model's next version and returns the number MLflow gave it. */
    public Uni<String> createVersion(String name, String source, List<MlflowApi.Tag> tags) {
        return bounded(api.createModelVersion(new MlflowApi.CreateModelVersion(name, source, tags, null))).map(answer -> {
            if (answer == null || answer.modelVersion() == null || answer.modelVersion().version() == null) {
                throw new IllegalStateException("MLflow created a version of " + name + " without saying its number");
            }
            return answer.modelVersion().version();
        });
    }

    public Uni<Void> setAlias(String name, String alias, String mlflowVersion) {
        return bounded(api.setAlias(new MlflowApi.SetAlias(name, alias, mlflowVersion)));
    }

    /** Removes the alias, unless the model or the alias is gone already. */
    public Uni<Void> deleteAlias(String name, String alias) {
        return bounded(api.deleteAlias(new MlflowApi.DeleteAlias(name, alias)))
                .onFailure(MlflowRegistry::doesNotExist).recoverWithNull();
    }

    /** Moves the version to an MLflow stage, leaving the model's other versions where they are. */
    public Uni<Void> transition(String name, String mlflowVersion, String mlflowStage) {
        return bounded(api.transitionStage(new MlflowApi.TransitionStage(name, mlflowVersion, mlflowStage, false)));
    }

    private <T> Uni<T> bounded(Uni<T> call) {
        return call.ifNoItem().after(timeout)
                .failWith(() -> new TimeoutException("MLflow did not answer within " + timeout));
    }

    private static boolean doesNotExist(Throwable e) {
        return e instanceof MlflowError m && m.doesNotExist();
    }

    private static <T> List<T> orEmpty(List<T> list) {
        return list == null ? List.of() : list;
    }
}
