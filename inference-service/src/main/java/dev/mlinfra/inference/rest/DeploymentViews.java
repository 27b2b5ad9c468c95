package dev.mlinfra.inference.rest;

import dev.mlinfra.inference.Deployment;
import dev.mlinfra.inference.backend.ServingBackend.ServerStatus;
import java.time.Instant;

/** How deployments look in the API. */
public final class DeploymentViews {

    private DeploymentViews() {
    }

    /**
     * A model's deployment.
     *
     * @param servedName      the model's name on the serving backend (its adapter)
     * @param reason          why it failed, or why nothing is servable
     * @param previousVersion while {@code version} deploys, the version that answers until it is ready
     */
    public record DeploymentView(String modelId, String modelType, String version, String stage, String state,
            String reason, String backend, String servedName, String artifact, Instant createdAt, Instant updatedAt,
            Instant readyAt, String previousVersion) {
    }

    public static DeploymentView of(Deployment d) {
        return new DeploymentView(d.modelId, d.modelType, d.version, d.stage, d.state.value(), d.reason, d.backend,
                d.servedName, d.artifact, d.createdAt, d.updatedAt, d.readyAt, d.previousVersion);
    }

    /** A serving backend's server, as status pages show it. */
    public record ServerView(String modelType, String url, String state, Long pid, int restarts, String lastExit) {
        static ServerView of(ServerStatus s) {
            return new ServerView(s.modelType(), s.url(), s.state(), s.pid(), s.restarts(), s.lastExit());
        }
    }
}
