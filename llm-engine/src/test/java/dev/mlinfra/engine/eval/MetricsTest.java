package dev.mlinfra.engine.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class MetricsTest {

    @Test
    void identicalTrajectoriesScoreOneAndDisjointOnesZero() {
        List<String> steps = List.of("Check the kubelet logs", "Upgrade to v1.26.1");
        assertEquals(1.0, Metrics.trajectorySimilarity(steps, steps), 1e-12);
        assertEquals(0.0, Metrics.trajectorySimilarity(List.of("alpha beta"), List.of("gamma delta")), 1e-12);
        assertEquals(0.0, Metrics.trajectorySimilarity(List.of(), steps), 1e-12);
    }

    @Test
    void partialOverlapScoresBetween() {
        double s = Metrics.trajectorySimilarity(List.of("Check the kubelet logs"), List.of("Check the kubelet logs",
                "Upgrade the node pool"));
        assertTrue(s > 0.5 && s < 1, "got " + s);
        assertEquals(0.5, Metrics.stepSimilarity("a b", "a c"), 1e-12);
    }

    @Test
    void macroF1AveragesPerClassScores() {
        List<String> ref = List.of("bug", "bug", "feature", "question");
        List<String> pred = List.of("bug", "feature", "feature", "unknown");
        // bug: tp1 fn1 -> 2/3; feature: tp1 fp1 -> 2/3; question: 0.
        assertEquals((2.0 / 3 + 2.0 / 3 + 0) / 3, Metrics.macroF1(ref, pred), 1e-12);
        assertEquals(0.5, Metrics.accuracy(ref, pred), 1e-12);
        assertEquals(1.0, Metrics.macroF1(ref, ref), 1e-12);
    }
}
