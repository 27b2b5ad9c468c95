package dev.mlinfra.engine.progress;

import java.util.Map;

/** Receives what a training job does while it runs. */
public interface ProgressListener extends AutoCloseable {

    /** After every optimizer step. */
    void onStep(StepReport report);

    /**
     * Milestones other than steps: {@code started}, {@code checkpoint}, {@code evaluation},
     * {@code completed}, {@code failed}, {@code cancelled}, with their details.
     */
    default void onEvent(String event, Map<String, Object> details) {
    }

    @Override
    default void close() {
    }

    /** A listener that ignores everything. */
    static ProgressListener none() {
        return report -> {
        };
    }

    /** Forwards to several listeners. */
    static ProgressListener all(java.util.List<ProgressListener> listeners) {
        return new ProgressListener() {
            @Override
            public void onStep(StepReport report) {
                listeners.forEach(l -> l.onStep(report));
            }

            @Override
            public void onEvent(String event, Map<String, Object> details) {
                listeners.forEach(l -> l.onEvent(event, details));
            }

            @Override
            public void close() {
                listeners.forEach(ProgressListener::close);
            }
        };
    }
}
