import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.mlinfra.engine.EngineRuntime;
import dev.mlinfra.engine.model.KvCache;
import dev.mlinfra.engine.model.LlamaModel;
import dev.mlinfra.engine.model.LoraAdapter;
import dev.mlinfra.engine.model.LoraConfig;
import dev.mlinfra.engine.model.ModelConfig;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Engine benchmark: matmul peak of this machine through DJL/PyTorch, training throughput and
 * achieved GFLOP/s of the scout and maverick miniatures (as a fraction of that peak), and
 * generation speed (time to first token for a 160-token prompt, decode tokens/s with a KV cache,
 * and batched decoding steps of 1, 4 and 8 sequences on one or 4 adapters).
 * Besides the square-matrix peak, each training line is compared with the peak at the model's own
 * shapes: the matrix products one training step runs (projections of 4,096 token rows at hidden
 * 256, each expert's slice of the tokens, the attention blocks, their backward products), each
 * timed alone in this process, their FLOPs over their summed time. The time a step spends beyond
 * those products is element-wise work, memory traffic, MoE dispatch and per-op overhead.
 * Run through bench/engine/run.sh.
 */
public class EngineBench {

    static final int BATCH = 8;
    static final int SEQ = 512;

    public static void main(String[] args) {
        Engine engine = EngineRuntime.engine();
        double peak = matmulPeak();
        System.out.printf("matmul peak (fp32, best of 512..2048 square): %.1f GFLOP/s%n", peak);
        for (String type : List.of("scout", "maverick")) {
            ModelConfig c = ModelConfig.builtin(type);
            try (NDManager root = NDManager.newBaseManager();
                 LlamaModel model = LlamaModel.fromTensors(c, LlamaModel.initialWeights(c), root, DataType.FLOAT32)) {
                System.out.printf("%n%s: %,d parameters, %,d active per token, %d experts (top-%d), hidden %d, %d layers%n",
                        type, c.parameterCount(), c.activeParameterCount(), c.numLocalExperts(), c.numExpertsPerTok(),
                        c.hiddenSize(), c.numHiddenLayers());
                double full = train(engine, model, null, root);
                double flopsPerToken = trainingFlopsPerToken(model, null, SEQ);
                ShapePeak fullShapes = shapePeak(model, 0);
                report("full fine-tuning", full, flopsPerToken, peak, fullShapes);
                try (LoraAdapter lora = LoraAdapter.create(model, new LoraConfig(16, 32, 0.05, null,
                        List.of("embed_tokens", "lm_head")), 1)) {
                    double t = train(engine, model, lora, root);
                    double f = trainingFlopsPerToken(model, lora, SEQ);
                    report("LoRA r=16", t, f, peak, shapePeak(model, 16));
                }
                generation(model);
            }
        }
    }

    static void report(String what, double tokensPerSecond, double flopsPerToken, double peak, ShapePeak shapes) {
        double achieved = tokensPerSecond * flopsPerToken / 1e9;
        double stepSeconds = BATCH * SEQ / tokensPerSecond;
        System.out.printf("  %-17s %.0f tokens/s, %.1f GFLOP/s = %.0f%% of peak, %.0f%% of the peak at the model's shapes"
                + " (%.1f GFLOP/s) (%.2f MFLOP/token)%n", what + ":", tokensPerSecond, achieved, 100 * achieved / peak,
                100 * achieved / shapes.gflops(), shapes.gflops(), flopsPerToken / 1e6);
        System.out.printf("  %-17s step %.0f ms, of which %.0f ms in its %d matrix products (%.0f%%); the rest is element-wise"
                + " work, memory traffic, MoE dispatch and per-op overhead%n", "", stepSeconds * 1e3, shapes.seconds() * 1e3,
                shapes.products(), 100 * shapes.seconds() / stepSeconds);
    }

    /** The summed time, FLOPs and count of the matrix products of one training step. */
    record ShapePeak(double seconds, double flops, int products) {
        double gflops() {
            return flops / seconds / 1e9;
        }
    }

    /**
     * Times the matrix products of one training step of batch {@link #BATCH} x {@link #SEQ} at the
     * model's own shapes, each alone: forward, and backward the input gradient of every product
     * and the weight gradient of the trained ones (every weight for {@code loraRank} 0; under LoRA
     * the adapter matrices and lm_head). Routed experts get an even share of the tokens (top-k).
     */
    static ShapePeak shapePeak(LlamaModel model, int loraRank) {
        ModelConfig c = model.config();
        long t = (long) BATCH * SEQ;
        int h = c.hiddenSize();
        int q = c.numAttentionHeads() * c.headDim();
        int kv = c.numKeyValueHeads() * c.headDim();
        boolean lora = loraRank > 0;
        List<long[]> products = new java.util.ArrayList<>(); // {batch, m, k, n, count}
        boolean full = !lora;
        int r = loraRank;
        int group = c.numAttentionHeads() / c.numKeyValueHeads();
        for (int layer = 0; layer < c.numHiddenLayers(); layer++) {
            linear(products, t, h, q, 1, full, r);
            linear(products, t, h, kv, 1, full, r);
            linear(products, t, h, kv, 1, full, r);
            for (int block = 0; block < SEQ / 64; block++) {
                long keys = 64L * (block + 1);
                long batch = (long) BATCH * c.numKeyValueHeads();
                long rows = 64L * group;
                products.add(new long[] {batch, rows, c.headDim(), keys, 3});   // QK^T, and its two gradients
                products.add(new long[] {batch, rows, keys, c.headDim(), 3});   // AV, and its two gradients
            }
            linear(products, t, q, h, 1, full, r);
            if (c.isMoeLayer(layer)) {
                products.add(new long[] {1, t, h, c.numLocalExperts(), full ? 3 : 2});
                linear(products, t, h, c.intermediateSize(), 1, full, r);
                linear(products, t, h, c.intermediateSize(), 1, full, r);
                linear(products, t, c.intermediateSize(), h, 1, full, r);
                long share = t * c.numExpertsPerTok() / c.numLocalExperts();
                linear(products, share, h, 2L * c.intermediateSize(), c.numLocalExperts(), full, 0);
                linear(products, share, c.intermediateSize(), h, c.numLocalExperts(), full, 0);
            } else {
                linear(products, t, h, c.intermediateSizeMlp(), 1, full, r);
                linear(products, t, h, c.intermediateSizeMlp(), 1, full, r);
                linear(products, t, c.intermediateSizeMlp(), h, 1, full, r);
            }
        }
        products.add(new long[] {1, t, h, c.vocabSize(), 3});                      // lm_head, trained in both
        double seconds = 0;
        double flops = 0;
        int count = 0;
        try (NDManager m = NDManager.newBaseManager()) {
            for (long[] p : products) {
                NDArray a = m.randomNormal(p[0] == 1 ? new Shape(p[1], p[2]) : new Shape(p[0], p[1], p[2]));
                NDArray b = m.randomNormal(p[0] == 1 ? new Shape(p[2], p[3]) : new Shape(p[0], p[2], p[3]));
                a.matMul(b).close();
                double each = Double.MAX_VALUE;
                for (int round = 0; round < 3; round++) {
                    int iters = Math.max(2, (int) (2e8 / (2.0 * p[0] * p[1] * p[2] * p[3])));
                    long start = System.nanoTime();
                    for (int i = 0; i < iters; i++) {
                        a.matMul(b).close();
                    }
                    each = Math.min(each, (System.nanoTime() - start) / 1e9 / iters);
                }
                a.close();
                b.close();
                seconds += each * p[4];
                flops += 2.0 * p[0] * p[1] * p[2] * p[3] * p[4];
                count += (int) p[4];
            }
        }
        return new ShapePeak(seconds, flops, count);
    }

    /**
     * A projection {@code [m, k] x [k, n]} run {@code count} times: forward, the input gradient,
     * the weight gradient when the weight is trained, and with {@code loraRank} > 0 its adapter
     * ({@code x A} then {@code (x A) B}, both trained).
     */
    static void linear(List<long[]> out, long m, long k, long n, long count, boolean trained, int loraRank) {
        out.add(new long[] {1, m, k, n, count});
        out.add(new long[] {1, m, n, k, count});
        if (trained) {
            out.add(new long[] {1, k, m, n, count});
        }
        if (loraRank > 0) {
            out.add(new long[] {1, m, k, loraRank, count});
            out.add(new long[] {1, m, loraRank, k, count});
            out.add(new long[] {1, k, m, loraRank, count});
            out.add(new long[] {1, m, loraRank, n, count});
            out.add(new long[] {1, m, n, loraRank, count});
            out.add(new long[] {1, loraRank, m, n, count});
        }
    }

    static double matmulPeak() {
        double best = 0;
        try (NDManager m = NDManager.newBaseManager()) {
            for (int n : new int[] {512, 1024, 2048}) {
                NDArray a = m.randomNormal(new Shape(n, n));
                NDArray b = m.randomNormal(new Shape(n, n));
                for (int i = 0; i < 3; i++) {
                    a.matMul(b).close();
                }
                int iters = Math.max(3, (int) (4e10 / (2.0 * n * n * n)));
                long start = System.nanoTime();
                for (int i = 0; i < iters; i++) {
                    a.matMul(b).close();
                }
                best = Math.max(best, 2.0 * n * n * n * iters / ((System.nanoTime() - start) / 1e9) / 1e9);
            }
        }
        return best;
    }

    /**
     * Model FLOPs per trained token. Matrix products: 2 per weight in the forward pass and 4 in the
     * backward pass (input and weight gradients) for every weight a token passes through; a frozen
     * weight under LoRA gets no weight gradient, so 4; the LoRA matrices and the modules the
     * adapter trains in full (here lm_head; the embedding is a lookup, not a product) count 6.
     * Attention: QK^T and AV (2 * head_dim each per query-key pair and head) over the pairs the
     * model computes, that is each query block against the keys up to its last position, not the
     * fully masked rest of the T x T scores; x3 for forward and backward.
     */
    static double trainingFlopsPerToken(LlamaModel model, LoraAdapter lora, int seq) {
        ModelConfig c = model.config();
        double matmulParams = c.activeParameterCount() - (double) c.vocabSize() * c.hiddenSize();
        double products;
        if (lora == null) {
            products = 6 * matmulParams;
        } else {
            double trained = 0;
            double adapters = 0;
            for (Map.Entry<String, NDArray> p : lora.parameters().entrySet()) {
                if (p.getKey().contains(".lora_")) {
                    adapters += p.getValue().size();
                } else if (p.getKey().endsWith("lm_head.weight")) {
                    trained += p.getValue().size();
                }
            }
            products = 4 * (matmulParams - trained) + 6 * (trained + adapters);
        }
        double attention = 4.0 * c.headDim() * c.numAttentionHeads() * c.numHiddenLayers()
                * model.attentionScorePairs(seq) / seq;
        return products + 3 * attention;
    }

    static double train(Engine engine, LlamaModel model, LoraAdapter lora, NDManager root) {
        Map<String, NDArray> params = lora != null ? lora.parameters() : model.weights();
        params.values().forEach(p -> p.setRequiresGradient(true));
        Random random = new Random(1);
        long tokens = 0;
        long nanos = 0;
        for (int step = 0; step < 8; step++) {
            long[] ids = new long[BATCH * SEQ];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = random.nextInt(256);
            }
            long start = System.nanoTime();
            try (NDScope scope = new NDScope(); NDManager m = root.newSubManager()) {
                scope.suppressNotUsedWarning();
                try (GradientCollector gc = engine.newGradientCollector()) {
                    NDArray logits = model.forward(m.create(ids, new Shape(BATCH, SEQ)), lora, lora != null);
                    NDArray target = m.create(ids, new Shape(BATCH, SEQ, 1));
                    gc.backward(logits.logSoftmax(2).gather(target, 2).mean().neg());
                }
                for (NDArray p : params.values()) {
                    try (NDArray g = p.getGradient()) {
                        g.sum().getFloat();
                    }
                    JniUtils.zeroGrad((PtNDArray) p);
                }
            }
            if (step >= 2) {
                nanos += System.nanoTime() - start;
                tokens += (long) BATCH * SEQ;
            }
        }
        params.values().forEach(p -> p.setRequiresGradient(false));
        return tokens / (nanos / 1e9);
    }

    static void generation(LlamaModel model) {
        boolean grad = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        int[] prompt = new int[160];
        Random random = new Random(2);
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = 32 + random.nextInt(90);
        }
        double bestTtft = Double.MAX_VALUE;
        double bestDecode = 0;
        for (int run = 0; run < 3; run++) {
            try (KvCache cache = new KvCache(model.config().numHiddenLayers())) {
                long start = System.nanoTime();
                float[] logits = model.forwardCached(prompt, cache, null);
                double ttft = (System.nanoTime() - start) / 1e6;
                int n = 128;
                start = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    int best = 0;
                    for (int j = 1; j < logits.length; j++) {
                        if (logits[j] > logits[best]) {
                            best = j;
                        }
                    }
                    logits = model.forwardCached(new int[] {best}, cache, null);
                }
                double decode = n / ((System.nanoTime() - start) / 1e9);
                bestTtft = Math.min(bestTtft, ttft);
                bestDecode = Math.max(bestDecode, decode);
            }
        }
        JniUtils.setGradMode(grad);
        System.out.printf("  generation: first token after %.1f ms (160-token prompt), decode %.0f tokens/s (KV cache)%n",
                bestTtft, bestDecode);
        batchedDecoding(model, prompt);
    }

    /**
     * Decoding steps of {@link LlamaModel#forwardDecode} (what model-server's continuous batching
     * runs) with 1, 4 and 8 sequences of 160-token contexts, all on one LoRA adapter and spread
     * over 4 adapters (r=16 on every projection, embed_tokens and lm_head saved): tokens/s of the
     * step alone, without prefill, sampling or HTTP, and the ratio to one sequence.
     */
    static void batchedDecoding(LlamaModel model, int[] prompt) {
        boolean grad = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        LoraAdapter[] adapters = new LoraAdapter[4];
        for (int i = 0; i < adapters.length; i++) {
            adapters[i] = LoraAdapter.create(model, new LoraConfig(16, 32, 0, null, List.of("embed_tokens", "lm_head")), i);
        }
        try {
            for (boolean spread : new boolean[] {false, true}) {
                double single = 0;
                StringBuilder line = new StringBuilder(spread ? "  batched decoding, 4 adapters: " : "  batched decoding, one adapter:");
                for (int n : new int[] {1, 4, 8}) {
                    KvCache[] caches = new KvCache[n];
                    LoraAdapter[] rows = new LoraAdapter[n];
                    int[] tokens = new int[n];
                    double best = 0;
                    try {
                        for (int r = 0; r < n; r++) {
                            caches[r] = new KvCache(model.config().numHiddenLayers());
                            rows[r] = adapters[spread ? r % adapters.length : 0];
                            model.forwardCached(prompt, caches[r], rows[r]);
                            tokens[r] = 'a' + r;
                        }
                        for (int run = 0; run < 3; run++) {
                            int steps = 32;
                            long start = System.nanoTime();
                            for (int i = 0; i < steps; i++) {
                                model.forwardDecode(tokens, caches, rows);
                            }
                            best = Math.max(best, (double) n * steps / ((System.nanoTime() - start) / 1e9));
                        }
                    } finally {
                        for (KvCache c : caches) {
                            if (c != null) {
                                c.close();
                            }
                        }
                    }
                    if (n == 1) {
                        single = best;
                    }
                    line.append(String.format(" %d rows %.0f tokens/s (%.2fx);", n, best, best / single));
                }
                System.out.println(line);
            }
        } finally {
            for (LoraAdapter a : adapters) {
                a.close();
            }
            JniUtils.setGradMode(grad);
        }
    }
}
