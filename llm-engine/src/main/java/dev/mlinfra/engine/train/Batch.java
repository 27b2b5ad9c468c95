package dev.mlinfra.engine.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mlinfra.engine.data.PromptTemplate.Example;
import dev.mlinfra.engine.model.LlamaModel;
import dev.mlinfra.engine.model.LoraAdapter;
import java.util.List;

/**
 * Examples padded into one batch: inputs are the sequences without their last token, targets
 * without their first, and the mask selects the positions whose target is an answer token
 * (the loss ignores the prompt and the padding).
 */
public record Batch(long[] inputs, long[] targets, float[] mask, int rows, int length, int targetTokens, int tokens) {

    /** Pads examples (right) with {@code padId}. */
    public static Batch of(List<Example> examples, int padId) {
        int rows = examples.size();
        int length = 1;
        for (Example e : examples) {
            length = Math.max(length, e.ids().length - 1);
        }
        long[] inputs = new long[rows * length];
        long[] targets = new long[rows * length];
        float[] mask = new float[rows * length];
        java.util.Arrays.fill(inputs, padId);
        java.util.Arrays.fill(targets, padId);
        int targetTokens = 0;
        int tokens = 0;
        for (int r = 0; r < rows; r++) {
            int[] ids = examples.get(r).ids();
            int start = examples.get(r).targetStart();
            for (int i = 0; i < ids.length - 1; i++) {
                inputs[r * length + i] = ids[i];
                targets[r * length + i] = ids[i + 1];
                if (i + 1 >= start) {
                    mask[r * length + i] = 1;
                    targetTokens++;
                }
            }
            tokens += Math.max(0, ids.length - 1);
        }
        return new Batch(inputs, targets, mask, rows, length, targetTokens, tokens);
    }

    /**
     * Mean cross-entropy over the answer tokens. Every array it creates belongs to the caller's
     * scope, so they outlive the backward pass.
     */
    public NDArray loss(LlamaModel model, LoraAdapter adapter, boolean dropout, NDManager manager) {
        NDArray in = manager.create(inputs, new Shape(rows, length));
        NDArray tgt = manager.create(targets, new Shape(rows, length, 1));
        NDArray m = manager.create(mask, new Shape(rows, length)).toType(model.dataType(), false);
        NDArray count = manager.create(new float[] {Math.max(1, targetTokens)}, new Shape()).toType(model.dataType(), false);
        NDArray logits = model.forward(in, adapter, dropout);
        NDArray picked = logits.logSoftmax(2).gather(tgt, 2).reshape(rows, length);
        return picked.mul(m).sum().div(count).neg();
    }
}
