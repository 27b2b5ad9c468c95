package dev.mlinfra.registry;

import java.util.Comparator;
import java.util.List;

/**
 * Which version speaks for a model (what GET shows, what serving uses): its production version,
 * else its newest version that is not archived, else its newest. A model whose current version is
 * archived (all its versions are) is inactive.
 */
public final class CurrentVersion {

    private CurrentVersion() {
    }

    public static ModelVersion of(List<ModelVersion> versions) {
        Comparator<ModelVersion> newest = Comparator.comparingInt(v -> v.minor);
        return versions.stream().filter(v -> v.stage == Stage.PRODUCTION).max(newest)
                .or(() -> versions.stream().filter(v -> v.stage != Stage.ARCHIVED).max(newest))
                .or(() -> versions.stream().max(newest))
                .orElseThrow(() -> new IllegalArgumentException("a model has at least one version"));
    }

    /** Sets the model's current version, stage and status from its versions. */
    public static void apply(Model model, List<ModelVersion> versions) {
        ModelVersion current = of(versions);
        model.currentVersion = current.version;
        model.currentStage = current.stage;
        model.status = current.stage == Stage.ARCHIVED ? ModelStatus.INACTIVE : ModelStatus.ACTIVE;
    }
}
