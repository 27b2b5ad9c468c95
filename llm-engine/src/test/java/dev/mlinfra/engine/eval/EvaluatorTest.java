package dev.mlinfra.engine.eval;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.mlinfra.engine.TestEngine;
import dev.mlinfra.engine.data.CompactRecord;
import dev.mlinfra.engine.model.ModelStore;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The evaluation's loss: measured on the answers' tokens, and left out where there are none. */
class EvaluatorTest {

    @Test
    void heldOutRecordsWithNoRoomForTheirAnswerLeaveTheLossOutInsteadOfZero() throws Exception {
        TestEngine.engine();
        CompactRecord record = new CompactRecord("kubernetes/kubernetes", "A title far too long to leave any room for the"
                + " answer at this length", "", "bug", List.of("Restart it."));
        try (NDManager m = NDManager.newBaseManager();
             ModelStore.Loaded base = ModelStore.loadBase("scout", TestEngine.targetDir().resolve("models"), m)) {
            Evaluator evaluator = new Evaluator(base.model(), base.tokenizer());
            Map<String, Object> none = evaluator.evaluate(List.of(record), null, 32, 2, List.of("bug"), null).asMap();
            assertFalse(none.containsKey("eval_loss"), none.toString());
            assertTrue(none.containsKey("accuracy"), none.toString());
            Map<String, Object> fits = evaluator.evaluate(List.of(record), null, 256, 2, List.of("bug"), null).asMap();
            assertTrue(((Number) fits.get("eval_loss")).doubleValue() > 0, fits.toString());
        }
    }
}
