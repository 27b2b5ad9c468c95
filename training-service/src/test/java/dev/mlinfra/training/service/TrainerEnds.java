package dev.mlinfra.training.service;

import dev.mlinfra.training.TrainingJob;
import dev.mlinfra.training.backend.TrainerExit;
import io.quarkus.vertx.VertxContextSupport;

/** A trainer's end handed to the job runner as a replica that heard it would, for the tests of other packages. */
public final class TrainerEnds {

    private TrainerEnds() {
    }

    /** What the runner does with the end of a trainer that did not finish: the job to launch again, or null. */
    public static TrainingJob handle(JobRunner runner, TrainerExit exit) throws Throwable {
        return VertxContextSupport.subscribeAndAwait(() -> runner.finish(exit, null));
    }
}
