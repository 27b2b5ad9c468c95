package dev.mlinfra.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import dev.mlinfra.engine.safetensors.DType;
import dev.mlinfra.engine.safetensors.Safetensors;
import dev.mlinfra.engine.safetensors.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A Llama-4-style decoder in miniature: token embeddings, {@code num_hidden_layers} blocks of
 * RMSNorm, grouped-query attention with rotary embeddings (skipped on NoPE layers) and optional
 * QK L2-norm, RMSNorm and a SwiGLU feed-forward that is a mixture of experts on the layers listed
 * in {@code moe_layers} (a shared expert plus top-k routed experts weighted by the sigmoid of the
 * router logit), a final RMSNorm and an untied output head.
 *
 * <p>Weights carry Hugging Face Llama 4 names and layouts ({@code [out, in]} projections, fused
 * {@code experts.gate_up_proj} {@code [E, hidden, 2*intermediate]} and {@code experts.down_proj}
 * {@code [E, intermediate, hidden]}). Every forward pass must run inside an {@link NDScope}
 * (the callers in this package do), which frees its intermediates.
 */
public final class LlamaModel implements AutoCloseable {

    private final ModelConfig config;
    private final NDManager manager;
    private final DataType dtype;
    private final Map<String, NDArray> weights;
    private final NDArray ropeCos;
    private final NDArray ropeSin;
    private final Map<Double, NDArray> scalars = new ConcurrentHashMap<>();
    private final Map<Integer, NDArray> causalMasks = new ConcurrentHashMap<>();

    private LlamaModel(ModelConfig config, NDManager manager, DataType dtype, Map<String, NDArray> weights) {
        this.config = config;
        this.manager = manager;
        this.dtype = dtype;
        this.weights = weights;
        int d = config.headDim();
        int maxPos = config.maxPositionEmbeddings();
        float[] cos = new float[maxPos * d];
        float[] sin = new float[maxPos * d];
        for (int p = 0; p < maxPos; p++) {
            for (int i = 0; i < d / 2; i++) {
                double invFreq = Math.pow(config.ropeTheta(), -2.0 * i / d);
                double angle = p * invFreq;
                cos[p * d + i] = cos[p * d + i + d / 2] = (float) Math.cos(angle);
                sin[p * d + i] = sin[p * d + i + d / 2] = (float) Math.sin(angle);
            }
        }
        this.ropeCos = manager.create(cos, new Shape(maxPos, d)).toType(dtype, false);
        this.ropeSin = manager.create(sin, new Shape(maxPos, d)).toType(dtype, false);
    }

    // ---------------------------------------------------------------- construction

    /** Names and shapes of every weight, in model order. */
    public static Map<String, long[]> weightShapes(ModelConfig c) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        long h = c.hiddenSize();
        long qDim = (long) c.numAttentionHeads() * c.headDim();
        long kvDim = (long) c.numKeyValueHeads() * c.headDim();
        shapes.put("model.embed_tokens.weight", new long[] {c.vocabSize(), h});
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            shapes.put(p + "input_layernorm.weight", new long[] {h});
            shapes.put(p + "self_attn.q_proj.weight", new long[] {qDim, h});
            shapes.put(p + "self_attn.k_proj.weight", new long[] {kvDim, h});
            shapes.put(p + "self_attn.v_proj.weight", new long[] {kvDim, h});
            shapes.put(p + "self_attn.o_proj.weight", new long[] {h, qDim});
            shapes.put(p + "post_attention_layernorm.weight", new long[] {h});
            if (c.isMoeLayer(i)) {
                long inter = c.intermediateSize();
                shapes.put(p + "feed_forward.router.weight", new long[] {c.numLocalExperts(), h});
                shapes.put(p + "feed_forward.experts.gate_up_proj", new long[] {c.numLocalExperts(), h, 2 * inter});
                shapes.put(p + "feed_forward.experts.down_proj", new long[] {c.numLocalExperts(), inter, h});
                shapes.put(p + "feed_forward.shared_expert.gate_proj.weight", new long[] {inter, h});
                shapes.put(p + "feed_forward.shared_expert.up_proj.weight", new long[] {inter, h});
                shapes.put(p + "feed_forward.shared_expert.down_proj.weight", new long[] {h, inter});
            } else {
                long inter = c.intermediateSizeMlp();
                shapes.put(p + "feed_forward.gate_proj.weight", new long[] {inter, h});
                shapes.put(p + "feed_forward.up_proj.weight", new long[] {inter, h});
                shapes.put(p + "feed_forward.down_proj.weight", new long[] {h, inter});
            }
        }
        shapes.put("model.norm.weight", new long[] {h});
        if (!c.tieWordEmbeddings()) {
            shapes.put("lm_head.weight", new long[] {c.vocabSize(), h});
        }
        return shapes;
    }

    /**
     * The seeded base weights: norms are ones, the output head is drawn from
     * {@code N(0, 1/hidden_size)}, everything else from {@code N(0, initializer_range)}, with a generator seeded by {@code mlinfra_init_seed} and the
     * weight's name, so the same config always yields the same base model.
     */
    public static Map<String, Tensor> initialWeights(ModelConfig c) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        weightShapes(c).forEach((name, shape) -> {
            int n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, (int) d);
            }
            float[] values = new float[n];
            if (name.endsWith("norm.weight")) {
                java.util.Arrays.fill(values, 1f);
            } else {
                // The output head gets std 1/sqrt(hidden): with the Llama default (0.02) a frozen
                // head caps logits near +-5 at this width, which a LoRA adapter cannot overcome.
                double std = name.equals("lm_head.weight") ? 1.0 / Math.sqrt(c.hiddenSize()) : c.initializerRange();
                SplittableRandom rnd = new SplittableRandom(c.mlinfraInitSeed() * 31 + name.hashCode());
                for (int i = 0; i < n; i++) {
                    values[i] = (float) (rnd.nextGaussian() * std);
                }
            }
            out.put(name, Tensor.ofFloats(shape, values));
        });
        return out;
    }

    /** A model from tensors (every weight of the config must be present with its shape). */
    public static LlamaModel fromTensors(ModelConfig config, Map<String, Tensor> tensors, NDManager parent, DataType dtype) {
        NDManager manager = parent.newSubManager();
        try {
            Map<String, NDArray> weights = new LinkedHashMap<>();
            for (Map.Entry<String, long[]> e : weightShapes(config).entrySet()) {
                Tensor t = tensors.get(e.getKey());
                if (t == null) {
                    throw new IllegalArgumentException("weights lack " + e.getKey());
                }
                if (!java.util.Arrays.equals(t.shape(), e.getValue())) {
                    throw new IllegalArgumentException("weight " + e.getKey() + " has shape " + java.util.Arrays.toString(t.shape())
                            + ", the config needs " + java.util.Arrays.toString(e.getValue()));
                }
                NDArray arr = manager.create(t.toFloats(), new Shape(t.shape()));
                weights.put(e.getKey(), dtype == DataType.FLOAT32 ? arr : arr.toType(dtype, false));
            }
            return new LlamaModel(config, manager, dtype, weights);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** Loads a model.safetensors file. */
    public static LlamaModel load(ModelConfig config, Path weightsFile, NDManager parent) throws IOException {
        return fromTensors(config, Safetensors.read(weightsFile).tensors(), parent, DataType.FLOAT32);
    }

    // ---------------------------------------------------------------- accessors

    public ModelConfig config() {
        return config;
    }

    public NDManager manager() {
        return manager;
    }

    public DataType dataType() {
        return dtype;
    }

    /** A weight by its HF name. */
    public NDArray weight(String name) {
        NDArray w = weights.get(name);
        if (w == null) {
            throw new IllegalArgumentException("no weight " + name);
        }
        return w;
    }

    /** All weights by HF name, in model order. */
    public Map<String, NDArray> weights() {
        return java.util.Collections.unmodifiableMap(weights);
    }

    /** Modules that are plain linear projections (LoRA candidates), without the {@code .weight} suffix. */
    public List<String> projectionModules() {
        List<String> out = new ArrayList<>();
        for (String name : weights.keySet()) {
            if (name.endsWith("_proj.weight")) {
                out.add(name.substring(0, name.length() - ".weight".length()));
            }
        }
        return out;
    }

    /** The weights as float32 tensors (HF names). */
    public Map<String, Tensor> toTensors() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        weights.forEach((name, arr) -> out.put(name, toTensor(arr)));
        return out;
    }

    static Tensor toTensor(NDArray arr) {
        float[] values = arr.getDataType() == DataType.FLOAT32 ? arr.toFloatArray()
                : arr.toType(DataType.FLOAT32, false).toFloatArray();
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return new Tensor(DType.F32, arr.getShape().getShape(), b.array());
    }

    // ---------------------------------------------------------------- forward passes

    /**
     * Full-sequence forward pass (training, evaluation loss): logits {@code [B, T, vocab]} for
     * token ids {@code [B, T]} (int64). {@code dropout} applies to LoRA inputs only.
     */
    public NDArray forward(NDArray ids, LoraAdapter adapter, boolean dropout) {
        long t = ids.getShape().get(1);
        NDArray x = embed(ids, adapter);
        NDArray mask = causalMask((int) t);
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            x = block(i, x, adapter, dropout, 0, null, mask);
        }
        return head(x, adapter);
    }

    /**
     * Incremental forward pass with a key/value cache: appends {@code ids} (one sequence) at the
     * cache's position and returns the logits of the last new position as floats.
     */
    public float[] forwardCached(int[] ids, KvCache cache, LoraAdapter adapter) {
        if (cache.length() + ids.length > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequence of " + (cache.length() + ids.length)
                    + " tokens exceeds max_position_embeddings " + config.maxPositionEmbeddings());
        }
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            long[] longIds = new long[ids.length];
            for (int i = 0; i < ids.length; i++) {
                longIds[i] = ids[i];
            }
            NDArray idArr = manager.create(longIds, new Shape(1, ids.length));
            NDArray x = embed(idArr, adapter);
            int past = cache.length();
            NDArray mask = ids.length > 1 ? prefixCausalMask(ids.length, past) : null;
            for (int i = 0; i < config.numHiddenLayers(); i++) {
                x = block(i, x, adapter, false, past, cache, mask);
            }
            cache.advance(ids.length);
            NDArray last = x.get(new NDIndex(":, -1:, :"));
            return head(last, adapter).toType(DataType.FLOAT32, false).toFloatArray();
        }
    }

    /** A base weight, or the adapter's fully trained replacement of it. */
    private NDArray weightFor(String name, LoraAdapter adapter) {
        NDArray replaced = adapter == null ? null : adapter.savedWeight(name);
        return replaced != null ? replaced : weights.get(name);
    }

    private NDArray embed(NDArray ids, LoraAdapter adapter) {
        NDArray table = weightFor("model.embed_tokens.weight", adapter);
        return table.getNDArrayInternal().embedding(ids, table, SparseFormat.DENSE).singletonOrThrow();
    }

    private NDArray head(NDArray x, LoraAdapter adapter) {
        NDArray h = rmsNorm(x, weights.get("model.norm.weight"));
        NDArray w = config.tieWordEmbeddings() ? weightFor("model.embed_tokens.weight", adapter)
                : weightFor("lm_head.weight", adapter);
        return linear(h, w);
    }

    private NDArray block(int layer, NDArray x, LoraAdapter adapter, boolean dropout, int past, KvCache cache, NDArray mask) {
        String p = "model.layers." + layer + ".";
        NDArray h = rmsNorm(x, weights.get(p + "input_layernorm.weight"));
        x = x.add(attention(layer, h, adapter, dropout, past, cache, mask));
        h = rmsNorm(x, weights.get(p + "post_attention_layernorm.weight"));
        NDArray ff = config.isMoeLayer(layer)
                ? moe(p + "feed_forward.", h, adapter, dropout)
                : swiglu(p + "feed_forward.", h, adapter, dropout);
        return x.add(ff);
    }

    /** Grouped-query attention over {@code x [B, T, hidden]}; with a cache, attends to the cached prefix too. */
    NDArray attention(int layer, NDArray x, LoraAdapter adapter, boolean dropout, int past, KvCache cache, NDArray mask) {
        String p = "model.layers." + layer + ".self_attn.";
        Shape s = x.getShape();
        long b = s.get(0);
        long t = s.get(1);
        int heads = config.numAttentionHeads();
        int kvHeads = config.numKeyValueHeads();
        int d = config.headDim();
        int group = heads / kvHeads;
        NDArray q = project(x, p + "q_proj", adapter, dropout).reshape(b, t, heads, d).transpose(0, 2, 1, 3);
        NDArray k = project(x, p + "k_proj", adapter, dropout).reshape(b, t, kvHeads, d).transpose(0, 2, 1, 3);
        NDArray v = project(x, p + "v_proj", adapter, dropout).reshape(b, t, kvHeads, d).transpose(0, 2, 1, 3);
        if (config.usesRope(layer)) {
            NDArray cos = ropeCos.get(new NDIndex().addSliceDim(past, past + t));
            NDArray sin = ropeSin.get(new NDIndex().addSliceDim(past, past + t));
            q = rope(q, cos, sin);
            k = rope(k, cos, sin);
            if (config.useQkNorm()) {
                q = l2Norm(q);
                k = l2Norm(k);
            }
        }
        if (cache != null) {
            k = cache.append(layer, k, v)[0];
            v = cache.values(layer);
        }
        long total = k.getShape().get(2);
        q = q.mul(scalar(1.0 / Math.sqrt(d)));
        NDArray scores = q.reshape(b, kvHeads, group * t, d).matMul(k.transpose(0, 1, 3, 2));
        if (mask != null) {
            NDArray masked = scores.reshape(b, kvHeads, group, t, total).add(mask);
            // The score tensors are the largest in the model (T^2 per head). Autograd keeps only
            // what it needs (the softmax output), so free the rest now rather than at scope end.
            scores.close();
            scores = masked.reshape(b, kvHeads, group * t, total);
            masked.close();
        }
        NDArray probs = scores.softmax(-1);
        scores.close();
        NDArray context = probs.matMul(v);
        probs.close();
        NDArray out = context.reshape(b, heads, t, d).transpose(0, 2, 1, 3).reshape(b, t, (long) heads * d);
        return project(out, p + "o_proj", adapter, dropout);
    }

    /** SwiGLU: {@code down(silu(gate(x)) * up(x))}. */
    NDArray swiglu(String prefix, NDArray x, LoraAdapter adapter, boolean dropout) {
        NDArray gate = project(x, prefix + "gate_proj", adapter, dropout);
        NDArray up = project(x, prefix + "up_proj", adapter, dropout);
        return project(silu(gate).mul(up), prefix + "down_proj", adapter, dropout);
    }

    /**
     * Mixture of experts: the shared expert sees every token; each token also goes to its top-k
     * routed experts, whose outputs are weighted by the sigmoid of the chosen router logits.
     * Tokens are sorted by expert so that each expert runs one matrix product over its tokens.
     */
    NDArray moe(String prefix, NDArray x, LoraAdapter adapter, boolean dropout) {
        Shape shape = x.getShape();
        long hidden = shape.get(shape.dimension() - 1);
        NDArray flat = x.reshape(-1, hidden);
        int n = (int) flat.getShape().get(0);
        int k = config.numExpertsPerTok();
        int experts = config.numLocalExperts();
        NDArray logits = linear(flat, weights.get(prefix + "router.weight"));
        NDList top = logits.topK(k, -1, true, true);
        NDArray weightsTop = top.get(0).getNDArrayInternal().sigmoid();
        long[] chosen = top.get(1).toLongArray();

        // Stable counting sort of the (token, slot) pairs by expert.
        int[] counts = new int[experts];
        for (long e : chosen) {
            counts[(int) e]++;
        }
        int[] start = new int[experts + 1];
        for (int e = 0; e < experts; e++) {
            start[e + 1] = start[e] + counts[e];
        }
        int[] fill = start.clone();
        long[] order = new long[n * k];
        long[] inverse = new long[n * k];
        long[] tokenOf = new long[n * k];
        for (int slot = 0; slot < n * k; slot++) {
            int pos = fill[(int) chosen[slot]]++;
            order[pos] = slot;
            inverse[slot] = pos;
            tokenOf[pos] = slot / k;
        }
        NDManager m = x.getManager();
        NDArray sortedIn = flat.get(new NDIndex("{}", m.create(tokenOf)));
        NDArray gateUp = weights.get(prefix + "experts.gate_up_proj");
        NDArray down = weights.get(prefix + "experts.down_proj");
        List<NDArray> outs = new ArrayList<>();
        for (int e = 0; e < experts; e++) {
            if (counts[e] == 0) {
                continue;
            }
            NDArray in = counts[e] == n * k ? sortedIn : sortedIn.get(new NDIndex().addSliceDim(start[e], start[e + 1]));
            NDList gu = in.matMul(gateUp.get(e)).split(2, 1);
            outs.add(silu(gu.get(0)).mul(gu.get(1)).matMul(down.get(e)));
        }
        NDArray sortedOut = outs.size() == 1 ? outs.get(0) : ai.djl.ndarray.NDArrays.concat(new NDList(outs));
        NDArray sortedWeights = weightsTop.reshape(-1).get(new NDIndex("{}", m.create(order))).reshape(-1, 1);
        NDArray routed = sortedOut.mul(sortedWeights).get(new NDIndex("{}", m.create(inverse)));
        if (k > 1) {
            routed = routed.reshape(n, k, hidden).sum(new int[] {1});
        }
        NDArray shared = swiglu(prefix + "shared_expert.", flat, adapter, dropout);
        return shared.add(routed).reshape(shape);
    }

    /** {@code x W^T} plus, when the adapter targets the module, {@code scale * B A dropout(x)}. */
    NDArray project(NDArray x, String module, LoraAdapter adapter, boolean dropout) {
        NDArray y = linear(x, weights.get(module + ".weight"));
        NDArray[] ab = adapter == null ? null : adapter.module(module);
        if (ab == null) {
            return y;
        }
        NDArray in = x;
        double rate = adapter.config().dropout();
        if (dropout && rate > 0) {
            in = x.getNDArrayInternal().dropout(x, (float) rate, true).singletonOrThrow();
        }
        NDArray update = linear(linear(in, ab[0]), ab[1]);
        return y.add(update.mul(scalar(adapter.config().scaling())));
    }

    private static NDArray linear(NDArray x, NDArray w) {
        return x.matMul(w.transpose());
    }

    NDArray rmsNorm(NDArray x, NDArray weight) {
        return l2Norm(x).mul(weight);
    }

    /** {@code x / sqrt(mean(x^2) + eps)} over the last axis. */
    NDArray l2Norm(NDArray x) {
        NDArray ms = x.square().mean(new int[] {-1}, true);
        return x.div(ms.add(scalar(config.rmsNormEps())).sqrt());
    }

    private NDArray rope(NDArray x, NDArray cos, NDArray sin) {
        int last = x.getShape().dimension() - 1;
        NDList halves = x.split(2, last);
        NDArray rotated = halves.get(1).neg().concat(halves.get(0), last);
        return x.mul(cos).add(rotated.mul(sin));
    }

    private static NDArray silu(NDArray x) {
        return x.mul(x.getNDArrayInternal().sigmoid());
    }

    /**
     * A scalar of the model's dtype that lives as long as the model. Scalars passed to DJL's
     * {@code mul(Number)} and friends are freed right after the call, before backward needs them.
     */
    NDArray scalar(double value) {
        return scalars.computeIfAbsent(value, v -> {
            NDArray s = manager.full(new Shape(), (float) v.doubleValue(), dtype);
            NDScope.unregister(s);
            return s;
        });
    }

    /** Additive causal mask {@code [T, T]}: 0 on and below the diagonal, -inf above. */
    private NDArray causalMask(int t) {
        return causalMasks.computeIfAbsent(t, len -> {
            NDArray mask = prefixCausalMask(len, 0);
            NDScope.unregister(mask);
            return mask;
        });
    }

    /** Mask {@code [t, past + t]} for t new tokens after {@code past} cached ones. */
    private NDArray prefixCausalMask(int t, int past) {
        int total = past + t;
        float[] values = new float[t * total];
        for (int i = 0; i < t; i++) {
            for (int j = past + i + 1; j < total; j++) {
                values[i * total + j] = Float.NEGATIVE_INFINITY;
            }
        }
        return manager.create(values, new Shape(t, total)).toType(dtype, false);
    }

    @Override
    public void close() {
        manager.close();
    }
}
