package dev.mlinfra.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import dev.mlinfra.engine.TestEngine;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link LlamaModel#forwardDecode}: a row's logits are bit for bit those of the same sequence
 * decoded alone, whatever rows, adapters and positions share its step; and they are the logits of
 * the single-sequence cached forward pass (up to float rounding).
 */
class BatchedDecodeTest {

    private static NDManager root;
    private static LlamaModel model;
    private static LoraAdapter first;
    private static LoraAdapter second;
    private static LoraAdapter third;

    @BeforeAll
    static void setUp() {
        TestEngine.engine();
        JniUtils.setGradMode(false);
        root = NDManager.newBaseManager();
        ModelConfig config = ModelConfig.builtin("scout");
        model = LlamaModel.fromTensors(config, LlamaModel.initialWeights(config), root, DataType.FLOAT32);
        first = perturbed(LoraAdapter.create(model, new LoraConfig(8, 16, 0, null, List.of("lm_head")), 1));
        second = perturbed(LoraAdapter.create(model, new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj", "down_proj")), 2));
        third = perturbed(LoraAdapter.create(model, new LoraConfig(8, 16, 0, null, List.of("lm_head")), 3));
    }

    /** A fresh adapter's B is zero; moving every matrix makes the adapter change the output. */
    private static LoraAdapter perturbed(LoraAdapter adapter) {
        for (NDArray p : adapter.parameters().values()) {
            p.addi(p.getManager().randomNormal(0, 0.05f, p.getShape(), p.getDataType()));
        }
        return adapter;
    }

    @AfterAll
    static void tearDown() {
        first.close();
        second.close();
        third.close();
        model.close();
        root.close();
        JniUtils.setGradMode(true);
    }

    private static int[] prompt(long seed, int length) {
        Random random = new Random(seed);
        int[] ids = new int[length];
        ids[0] = 256;
        for (int i = 1; i < length; i++) {
            ids[i] = 32 + random.nextInt(90);
        }
        return ids;
    }

    private static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void aRowDecodesExactlyAsItsSequenceAlone() {
        decodesAsAlone(new LoraAdapter[] {null, first, second, first, null, second, second});
    }

    /** Every row has an adapter, all of one rank: each adapter's rows add their updates without a round through the others. */
    @Test
    void rowsOfAdaptersOfOneRankDecodeExactlyAsTheirSequencesAlone() {
        decodesAsAlone(new LoraAdapter[] {third, first, third, third, first, first, third, first});
    }

    /** Decodes one sequence per adapter (null: the base model) together and alone, rows leaving after three steps. */
    private static void decodesAsAlone(LoraAdapter[] adapters) {
        int n = adapters.length;
        List<KvCache> batched = new ArrayList<>();
        List<KvCache> alone = new ArrayList<>();
        List<KvCache> reference = new ArrayList<>();
        int[] next = new int[n];
        try {
            for (int i = 0; i < n; i++) {
                int[] p = prompt(i, 5 + 9 * i);
                KvCache b = new KvCache(model.config().numHiddenLayers());
                KvCache a = new KvCache(model.config().numHiddenLayers());
                KvCache r = new KvCache(model.config().numHiddenLayers());
                batched.add(b);
                alone.add(a);
                reference.add(r);
                model.forwardCached(p, a, adapters[i]);
                model.forwardCached(p, r, adapters[i]);
                next[i] = argmax(model.forwardCached(p, b, adapters[i]));
            }
            for (int step = 0; step < 6; step++) {
                // Rows leave and join: from step 3 on, the first two rows decode no more.
                int from = step < 3 ? 0 : 2;
                int rows = n - from;
                int[] tokens = new int[rows];
                KvCache[] caches = new KvCache[rows];
                LoraAdapter[] rowAdapters = new LoraAdapter[rows];
                for (int r = 0; r < rows; r++) {
                    tokens[r] = next[from + r];
                    caches[r] = batched.get(from + r);
                    rowAdapters[r] = adapters[from + r];
                }
                float[][] together = model.forwardDecode(tokens, caches, rowAdapters);
                for (int r = 0; r < rows; r++) {
                    int i = from + r;
                    float[] single = model.forwardDecode(new int[] {tokens[r]}, new KvCache[] {alone.get(i)},
                            new LoraAdapter[] {adapters[i]})[0];
                    assertArrayEquals(single, together[r], "row " + i + " at step " + step + " equals its sequence alone");
                    float[] cached = model.forwardCached(new int[] {tokens[r]}, reference.get(i), adapters[i]);
                    assertArrayEquals(cached, together[r], 1e-4f, "row " + i + " at step " + step + " matches forwardCached");
                    next[i] = argmax(together[r]);
                }
            }
            assertEquals(alone.get(n - 1).length(), batched.get(n - 1).length());
        } finally {
            batched.forEach(KvCache::close);
            alone.forEach(KvCache::close);
            reference.forEach(KvCache::close);
        }
    }

    @Test
    void aStepTakesAtMostTheRowsItIsExactFor() {
        int n = LlamaModel.MAX_DECODE_ROWS + 1;
        assertThrows(IllegalArgumentException.class,
                () -> model.forwardDecode(new int[n], new KvCache[n], new LoraAdapter[n]));
    }
}
