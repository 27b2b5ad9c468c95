package dev.mlinfra.training.backend;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Runs trainers. Every backend takes the same trainer spec (the contract in llm-engine/README.md:
 * dataset location, base model, hyperparameters, output location, Kafka settings) and reports how
 * each trainer ended; the trainers themselves report their steps on {@code mlinfra.training.progress}
 * and write their artifacts to the output location. Chosen by {@code mlinfra.training.backend}.
 */
public interface TrainingBackend {

    /** The name in configuration and in the job's {@code backend} column. */
    String name();

    /**
     * Starts the trainer of {@code jobId} with {@code spec}. Blocking: call it on a worker thread.
     * A job launched again (after its trainer stopped without finishing) resumes from its newest
     * checkpoint in the output location. {@code attempt} counts the job's launches (1 for the
     * first); a backend that several replicas of the service follow (a cluster) gives it back in
     * the trainer's {@link TrainerExit}, so that each end is acted on once.
     *
     * @throws LaunchException when the trainer cannot be started
     */
    void launch(String jobId, int attempt, ObjectNode spec);

    /** Asks the job's trainer to stop: it checkpoints and ends as {@link TrainerExit.Outcome#STOPPED}. */
    void stop(String jobId);

    /** Ends the job's trainer at once (one that ignored {@link #stop}). */
    void kill(String jobId);

    /**
     * Whether the job's trainer runs now. A backend follows every trainer it knows of (also those
     * it finds again after the service restarted) and reports its end to the exit listener.
     */
    boolean running(String jobId);

    /**
     * Whether a trainer could be started now, and which version it would be; starts nothing.
     * Blocking (it looks at files or asks a cluster): call it on a worker thread.
     */
    BackendStatus status();

    /** Who hears how trainers ended; set once, at start. */
    void onExit(Consumer<TrainerExit> listener);

    /**
     * How long after a launch was decided its trainer may still not show in {@link #running}: where
     * several replicas follow one cluster, another replica may be creating it (and waiting for its
     * view of the cluster first). Reconciliation does not call a job without a trainer lost sooner.
     */
    default Duration launchSettles() {
        return Duration.ZERO;
    }

    /**
     * How the job's latest trainer ended, where the backend can still tell after it ended (a cluster
     * keeps finished TrainJobs and their conditions); empty where it cannot. Blocking.
     */
    default Optional<TrainerExit> lastExit(String jobId) {
        return Optional.empty();
    }

    /**
     * Who hears what a user should know of a trainer that runs (job id, message), e.g. that the
     * cluster queues it; set once, at start. Backends with nothing to say ignore it.
     */
    default void onNote(BiConsumer<String, String> listener) {
    }

    /**
     * Who hears how far running trainers are where the backend itself can tell (a cluster that
     * tracks its trainers); set once, at start. The trainers' own step reports come regardless.
     */
    default void onProgress(Consumer<TrainerProgress> listener) {
    }

    /** A trainer that could not be started, with the reason a user can act on. */
    class LaunchException extends RuntimeException {
        public LaunchException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
