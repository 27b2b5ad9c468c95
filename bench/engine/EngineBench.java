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
                System.out.printf("  full fine-tuning: %.0f tokens/s, %.1f GFLOP/s = %.0f%% of peak (%.2f MFLOP/token)%n", full,
                        full * flopsPerToken / 1e9, 100 * full * flopsPerToken / 1e9 / peak, flopsPerToken / 1e6);
                try (LoraAdapter lora = LoraAdapter.create(model, new LoraConfig(16, 32, 0.05, null,
                        List.of("embed_tokens", "lm_head")), 1)) {
                    double t = train(engine, model, lora, root);
                    double f = trainingFlopsPerToken(model, lora, SEQ);
                    System.out.printf("  LoRA r=16:        %.0f tokens/s, %.1f GFLOP/s = %.0f%% of peak (%.2f MFLOP/token)%n", t,
                            t * f / 1e9, 100 * t * f / 1e9 / peak, f / 1e6);
                }
                generation(model);
            }
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
