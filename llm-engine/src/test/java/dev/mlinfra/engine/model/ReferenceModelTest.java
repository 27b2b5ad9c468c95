package dev.mlinfra.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.mlinfra.engine.TestEngine;
import dev.mlinfra.engine.safetensors.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Compares {@link LlamaModel#forward} and {@link LlamaModel#forwardCached} (float64) with a
 * straightforward plain-Java implementation of the architecture that works token by token: full
 * causal softmax over all previous positions, every expert evaluated per token, residuals added
 * separately. The model is run with several attention query block sizes, so blocks of one row,
 * uneven last blocks and blocks that follow cached positions are all covered.
 */
class ReferenceModelTest {

    private static final double TOLERANCE = 1e-9;

    private static NDManager root;

    @BeforeAll
    static void setUp() {
        TestEngine.engine();
        root = NDManager.newBaseManager();
    }

    @AfterAll
    static void tearDown() {
        root.close();
    }

    /** The gradient check's model (QK norm, top-2 routing) and one shaped like the built-ins (top-1, no QK norm). */
    static List<ModelConfig> configs() {
        ModelConfig qkNormTop2 = GradientCheckTest.tinyConfig();
        ModelConfig top1 = new ModelConfig(List.of("Llama4ForCausalLM"), "llama4_text", "scout", 264, 16, 8, 12, 3, 4, 2, 4, 4,
                1, List.of(1), List.of(1, 1, 0), false, 500000, 1e-5, 32, 0.2, 7, 2, 256, List.of(257), 261, false, "float32");
        return List.of(qkNormTop2, top1);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 5, LlamaModel.DEFAULT_QUERY_BLOCK})
    void forwardMatchesTheReference(int queryBlock) {
        for (ModelConfig config : configs()) {
            Map<String, Tensor> tensors = LlamaModel.initialWeights(config);
            try (LlamaModel model = LlamaModel.fromTensors(config, tensors, root, DataType.FLOAT64);
                 LoraAdapter adapter = randomAdapter(model)) {
                model.queryBlock = queryBlock;
                Reference reference = new Reference(config, tensors, adapter);
                long[][] sequences = {{256, 72, 101, 108, 108, 111, 32, 33, 10, 200, 7, 99, 13}, {256, 3, 250, 9, 9, 9, 1, 0, 77, 42, 31, 5, 6}};
                for (LoraAdapter a : new LoraAdapter[] {null, adapter}) {
                    double[] logits;
                    try (NDScope scope = new NDScope(); NDManager m = root.newSubManager()) {
                        scope.suppressNotUsedWarning();
                        long[] ids = new long[2 * 13];
                        System.arraycopy(sequences[0], 0, ids, 0, 13);
                        System.arraycopy(sequences[1], 0, ids, 13, 13);
                        NDArray out = model.forward(m.create(ids, new Shape(2, 13)), a, false);
                        assertEquals(new Shape(2, 13, config.vocabSize()), out.getShape());
                        logits = out.toDoubleArray();
                    }
                    for (int s = 0; s < 2; s++) {
                        double[][] expected = reference.logits(sequences[s], a != null);
                        for (int pos = 0; pos < 13; pos++) {
                            for (int v = 0; v < config.vocabSize(); v++) {
                                double actual = logits[(s * 13 + pos) * config.vocabSize() + v];
                                assertClose(expected[pos][v], actual, "sequence " + s + " position " + pos + " token " + v);
                            }
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, LlamaModel.DEFAULT_QUERY_BLOCK})
    void cachedGenerationMatchesTheReference(int queryBlock) {
        for (ModelConfig config : configs()) {
            Map<String, Tensor> tensors = LlamaModel.initialWeights(config);
            try (LlamaModel model = LlamaModel.fromTensors(config, tensors, root, DataType.FLOAT64);
                 LoraAdapter adapter = randomAdapter(model);
                 KvCache cache = new KvCache(config.numHiddenLayers())) {
                model.queryBlock = queryBlock;
                long[] sequence = {256, 72, 101, 108, 108, 111, 32, 33, 10, 200, 7, 99, 13, 14};
                double[][] expected = new Reference(config, tensors, adapter).logits(sequence, true);
                // A 5-token prompt, two single tokens, then a 4-token chunk after the cached ones and three more singles.
                int[] chunks = {5, 1, 1, 4, 1, 1, 1};
                int pos = 0;
                for (int chunk : chunks) {
                    int[] ids = new int[chunk];
                    for (int i = 0; i < chunk; i++) {
                        ids[i] = (int) sequence[pos + i];
                    }
                    float[] logits = model.forwardCached(ids, cache, adapter);
                    pos += chunk;
                    assertEquals(pos, cache.length());
                    for (int v = 0; v < config.vocabSize(); v++) {
                        // forwardCached returns float32 logits.
                        assertEquals(expected[pos - 1][v], logits[v], 1e-5 * Math.max(1, Math.abs(expected[pos - 1][v])),
                                "position " + (pos - 1) + " token " + v);
                    }
                }
            }
        }
    }

    private static void assertClose(double expected, double actual, String what) {
        assertTrue(Math.abs(expected - actual) <= TOLERANCE * Math.max(1, Math.abs(expected)),
                what + ": expected " + expected + ", got " + actual);
    }

    private static LoraAdapter randomAdapter(LlamaModel model) {
        LoraAdapter adapter = LoraAdapter.create(model, new LoraConfig(2, 4, 0, null), 5);
        Random random = new Random(11);
        for (NDArray p : adapter.parameters().values()) {
            double[] values = new double[(int) p.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = random.nextGaussian() * 0.3;
            }
            p.set(values);
        }
        return adapter;
    }

    /** The architecture written out for one sequence, one position at a time, in double precision. */
    private static final class Reference {

        private final ModelConfig c;
        private final Map<String, double[]> w = new HashMap<>();
        private final Map<String, double[][]> lora = new HashMap<>();
        private final double loraScaling;

        Reference(ModelConfig config, Map<String, Tensor> tensors, LoraAdapter adapter) {
            this.c = config;
            tensors.forEach((name, t) -> {
                float[] f = t.toFloats();
                double[] d = new double[f.length];
                for (int i = 0; i < f.length; i++) {
                    d[i] = f[i];
                }
                w.put(name, d);
            });
            for (String module : adapter.moduleNames()) {
                NDArray[] ab = adapter.module(module);
                lora.put(module, new double[][] {ab[0].toDoubleArray(), ab[1].toDoubleArray()});
            }
            loraScaling = adapter.config().scaling();
        }

        /** Logits {@code [T][vocab]} of every position of one sequence. */
        double[][] logits(long[] ids, boolean withLora) {
            int t = ids.length;
            int h = c.hiddenSize();
            double[][] x = new double[t][];
            for (int i = 0; i < t; i++) {
                x[i] = slice(w.get("model.embed_tokens.weight"), (int) ids[i] * h, h);
            }
            for (int layer = 0; layer < c.numHiddenLayers(); layer++) {
                String p = "model.layers." + layer + ".";
                double[][] normed = new double[t][];
                for (int i = 0; i < t; i++) {
                    normed[i] = rmsNorm(x[i], w.get(p + "input_layernorm.weight"));
                }
                double[][] attn = attention(layer, normed, withLora);
                for (int i = 0; i < t; i++) {
                    x[i] = add(x[i], attn[i]);
                    double[] n = rmsNorm(x[i], w.get(p + "post_attention_layernorm.weight"));
                    String f = p + "feed_forward.";
                    x[i] = add(x[i], c.isMoeLayer(layer) ? moe(f, n, withLora) : swiglu(f, n, withLora));
                }
            }
            double[][] out = new double[t][];
            for (int i = 0; i < t; i++) {
                out[i] = matVec(w.get("lm_head.weight"), rmsNorm(x[i], w.get("model.norm.weight")));
            }
            return out;
        }

        private double[][] attention(int layer, double[][] x, boolean withLora) {
            String p = "model.layers." + layer + ".self_attn.";
            int t = x.length;
            int heads = c.numAttentionHeads();
            int kvHeads = c.numKeyValueHeads();
            int d = c.headDim();
            double[][][] q = new double[t][][];
            double[][][] k = new double[t][][];
            double[][][] v = new double[t][][];
            for (int i = 0; i < t; i++) {
                q[i] = heads(project(p + "q_proj", x[i], withLora), heads, d);
                k[i] = heads(project(p + "k_proj", x[i], withLora), kvHeads, d);
                v[i] = heads(project(p + "v_proj", x[i], withLora), kvHeads, d);
                if (c.usesRope(layer)) {
                    for (double[] head : q[i]) {
                        rope(head, i);
                    }
                    for (double[] head : k[i]) {
                        rope(head, i);
                    }
                    if (c.useQkNorm()) {
                        for (int j = 0; j < heads; j++) {
                            q[i][j] = rmsNorm(q[i][j], null);
                        }
                        for (int j = 0; j < kvHeads; j++) {
                            k[i][j] = rmsNorm(k[i][j], null);
                        }
                    }
                }
            }
            double[][] out = new double[t][];
            for (int i = 0; i < t; i++) {
                double[] context = new double[heads * d];
                for (int head = 0; head < heads; head++) {
                    int kv = head / (heads / kvHeads);
                    double[] scores = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        scores[j] = dot(q[i][head], k[j][kv]) / Math.sqrt(d);
                        max = Math.max(max, scores[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) {
                        scores[j] = Math.exp(scores[j] - max);
                        sum += scores[j];
                    }
                    for (int j = 0; j <= i; j++) {
                        for (int e = 0; e < d; e++) {
                            context[head * d + e] += scores[j] / sum * v[j][kv][e];
                        }
                    }
                }
                out[i] = project(p + "o_proj", context, withLora);
            }
            return out;
        }

        private double[] swiglu(String prefix, double[] x, boolean withLora) {
            double[] gate = project(prefix + "gate_proj", x, withLora);
            double[] up = project(prefix + "up_proj", x, withLora);
            double[] act = new double[gate.length];
            for (int i = 0; i < act.length; i++) {
                act[i] = silu(gate[i]) * up[i];
            }
            return project(prefix + "down_proj", act, withLora);
        }

        private double[] moe(String prefix, double[] x, boolean withLora) {
            int h = c.hiddenSize();
            int inter = c.intermediateSize();
            double[] logits = matVec(w.get(prefix + "router.weight"), x);
            List<Integer> order = new ArrayList<>();
            for (int e = 0; e < logits.length; e++) {
                order.add(e);
            }
            order.sort((a, b) -> Double.compare(logits[b], logits[a]));
            double[] out = swiglu(prefix + "shared_expert.", x, withLora);
            double[] gateUp = w.get(prefix + "experts.gate_up_proj");
            double[] down = w.get(prefix + "experts.down_proj");
            for (int slot = 0; slot < c.numExpertsPerTok(); slot++) {
                int e = order.get(slot);
                double weight = 1 / (1 + Math.exp(-logits[e]));
                double[] act = new double[inter];
                for (int j = 0; j < inter; j++) {
                    double g = 0;
                    double u = 0;
                    for (int i = 0; i < h; i++) {
                        g += x[i] * gateUp[(e * h + i) * 2 * inter + j];
                        u += x[i] * gateUp[(e * h + i) * 2 * inter + inter + j];
                    }
                    act[j] = silu(g) * u;
                }
                for (int o = 0; o < h; o++) {
                    double y = 0;
                    for (int j = 0; j < inter; j++) {
                        y += act[j] * down[(e * inter + j) * h + o];
                    }
                    out[o] += weight * y;
                }
            }
            return out;
        }

        private double[] project(String module, double[] x, boolean withLora) {
            double[] y = matVec(w.get(module + ".weight"), x);
            double[][] ab = withLora ? lora.get(module) : null;
            if (ab != null) {
                double[] update = matVec(ab[1], matVec(ab[0], x));
                for (int i = 0; i < y.length; i++) {
                    y[i] += loraScaling * update[i];
                }
            }
            return y;
        }

        private void rope(double[] head, int pos) {
            int d = head.length;
            double[] rotated = new double[d];
            for (int i = 0; i < d / 2; i++) {
                rotated[i] = -head[i + d / 2];
                rotated[i + d / 2] = head[i];
            }
            for (int i = 0; i < d; i++) {
                double angle = pos * Math.pow(c.ropeTheta(), -2.0 * (i % (d / 2)) / d);
                // The model keeps its rotary tables in float32.
                head[i] = head[i] * (float) Math.cos(angle) + rotated[i] * (float) Math.sin(angle);
            }
        }

        private double[] rmsNorm(double[] x, double[] weight) {
            double ms = 0;
            for (double e : x) {
                ms += e * e;
            }
            double inv = 1 / Math.sqrt(ms / x.length + (float) c.rmsNormEps());
            double[] out = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                out[i] = x[i] * inv * (weight == null ? 1 : weight[i]);
            }
            return out;
        }

        private static double[][] heads(double[] x, int heads, int d) {
            double[][] out = new double[heads][];
            for (int j = 0; j < heads; j++) {
                out[j] = slice(x, j * d, d);
            }
            return out;
        }

        /** {@code W x} for a row-major {@code W [out, in]}. */
        private static double[] matVec(double[] weight, double[] x) {
            int out = weight.length / x.length;
            double[] y = new double[out];
            for (int o = 0; o < out; o++) {
                y[o] = dot(slice(weight, o * x.length, x.length), x);
            }
            return y;
        }

        private static double dot(double[] a, double[] b) {
            double s = 0;
            for (int i = 0; i < a.length; i++) {
                s += a[i] * b[i];
            }
            return s;
        }

        private static double[] add(double[] a, double[] b) {
            double[] out = new double[a.length];
            for (int i = 0; i < a.length; i++) {
                out[i] = a[i] + b[i];
            }
            return out;
        }

        private static double silu(double x) {
            return x / (1 + Math.exp(-x));
        }

        private static double[] slice(double[] a, int from, int length) {
            double[] out = new double[length];
            System.arraycopy(a, from, out, 0, length);
            return out;
        }
    }
}
