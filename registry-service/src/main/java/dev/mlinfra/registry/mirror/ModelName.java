package dev.mlinfra.registry.mirror;

/**
 * A model as MLflow knows it: registered models are team-qualified, {@code <team>.<model_id>}, so
 * two teams' models of the same id stay apart. Team names hold no dot, so the name is unambiguous.
 */
public record ModelName(String team, String modelId) {

    public String mlflowName() {
        return team + "." + modelId;
    }
}
