package dev.mlinfra.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
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
import java.util.stream.IntStream;

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

    /**
     * Query positions per attention block. At batch 8 × 512 with 8 query heads a 64-position
     * block's scores take at most 8 MB, and 56 % of the T² scores are computed. Training steps
     * measured at most as fast with 96 or 128 (which compute more masked scores) and slower with
     * 32 (more, smaller products).
     */
    static final int DEFAULT_QUERY_BLOCK = 64;

    private final ModelConfig config;
    private final NDManager manager;
    private final DataType dtype;
    private final Map<String, NDArray> weights;
    private final NDArray ropeCos;
    private final NDArray ropeSin;
    private final Map<Double, NDArray> scalars = new ConcurrentHashMap<>();
    private final Map<Integer, NDArray> blockMasks = new ConcurrentHashMap<>();
    /**
     * Stacked LoRA matrices of the adapters that decode together, per module (see
     * {@link #decodeLora}); the least recently used are closed beyond {@link #STACKED_LORA_ENTRIES}.
     */
    private final Map<List<Object>, NDArray[]> stackedLora = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<List<Object>, NDArray[]> eldest) {
            if (size() <= STACKED_LORA_ENTRIES) {
                return false;
            }
            for (NDArray arr : eldest.getValue()) {
                arr.close();
            }
            return true;
        }
    };
    /** Each adapter's transposed LoRA matrices per module (see {@link #transposedLora}); weak, as adapters come and go. */
    private final Map<LoraAdapter, Map<String, NDArray[]>> transposedLora = new java.util.WeakHashMap<>();
    /** Room for the modules of a few adapter combinations (the model has 7 LoRA modules per layer). */
    private static final int STACKED_LORA_ENTRIES = 128;
    /** Query positions per attention block (see {@link #attention}); tests vary it. */
    int queryBlock = DEFAULT_QUERY_BLOCK;

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

    /**
     * Query-key pairs whose scores one attention head computes for a sequence of {@code t} tokens
     * in {@link #forward}: each block of queries multiplies with the keys up to its last
     * position (see {@link #attention}), so this lies between {@code t(t+1)/2} and {@code t²}.
     */
    public long attentionScorePairs(int t) {
        long pairs = 0;
        for (int start = 0; start < t; start += queryBlock) {
            int end = Math.min(t, start + queryBlock);
            pairs += (long) (end - start) * end;
        }
        return pairs;
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
        long b = ids.getShape().get(0);
        int t = (int) ids.getShape().get(1);
        if (t > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequence of " + t + " tokens exceeds max_position_embeddings "
                    + config.maxPositionEmbeddings());
        }
        NDArray x = embed(ids.reshape(-1), adapter);
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            x = block(i, x, b, t, adapter, dropout, 0, null);
        }
        return head(x, adapter).reshape(b, t, -1);
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
            NDArray x = embed(manager.create(longIds), adapter);
            int past = cache.length();
            for (int i = 0; i < config.numHiddenLayers(); i++) {
                x = block(i, x, 1, ids.length, adapter, false, past, cache);
            }
            cache.advance(ids.length);
            NDArray last = x.get(new NDIndex("-1:, :"));
            return head(last, adapter).toType(DataType.FLOAT32, false).toFloatArray();
        }
    }

    /**
     * One decoding step for several sequences at once: appends {@code tokens[i]} to
     * {@code caches[i]} and returns each sequence's next-token logits ({@code [rows][vocab]}, in
     * the order given). Every row may have its own adapter (or none).
     *
     * <p>Rows are processed grouped by adapter: every base projection is one matrix product over
     * all rows; the LoRA updates of all adapters are one pair of batched products (each adapter's
     * rows one matrix of the batch, see {@link #decodeLora}); an adapter's replaced embeddings and
     * output head (PEFT {@code modules_to_save}) run over that adapter's rows. Attention runs per
     * row against the row's own cache; rotary embeddings, norms and MoE routing are row-wise.
     *
     * <p>A row's logits do not depend on the other rows: this is exact, not approximate, because
     * every matrix product of a step runs with exactly {@link #MAX_DECODE_ROWS} rows, and PyTorch's CPU
     * BLAS computes each row of a product of a given shape with the same kernel and summation
     * order, whatever the other rows hold. The kernel it picks depends on the number of rows, in
     * a way that differs between processors (on one with AVX-512, products of 2 and of 7 rows
     * differed in the last bits of a row), so the row count is fixed rather than bounded: the step
     * pads its rows with zero rows to that count once, after the embeddings, and runs the base
     * projections and norms over all of them; the padding rows attend to nothing and are routed
     * to no expert. Products over fewer rows are padded on their own: an expert's rows and, where
     * several adapters share the step, each adapter's rows (repeating one) and output head.
     * {@code BatchedDecodeTest} checks this bit for bit. (The logits match {@link #forwardCached}
     * only up to float rounding: that pass folds updates into its products differently.)
     */
    public float[][] forwardDecode(int[] tokens, KvCache[] caches, LoraAdapter[] adapters) {
        int n = tokens.length;
        if (n < 1 || n > MAX_DECODE_ROWS || caches.length != n || adapters.length != n) {
            throw new IllegalArgumentException("a decoding step takes 1 to " + MAX_DECODE_ROWS
                    + " rows with one cache and one adapter (or null) each, got " + n);
        }
        for (KvCache cache : caches) {
            if (cache == null || cache.length() < 1 || cache.length() + 1 > config.maxPositionEmbeddings()) {
                throw new IllegalArgumentException("a decoding step needs a prefilled cache with room for one more position");
            }
        }
        return decodeRows(tokens, caches, adapters);
    }

    /** {@link #forwardDecode} after its checks. */
    private float[][] decodeRows(int[] tokens, KvCache[] caches, LoraAdapter[] adapters) {
        int n = tokens.length;
        // Rows of one adapter next to each other (stable), so that each adapter's rows are one slice;
        // adapters in a fixed order, so that the same adapters reuse their stacked LoRA matrices
        // whatever the order of the requests.
        List<LoraAdapter> distinct = new ArrayList<>();
        for (LoraAdapter a : adapters) {
            if (!distinct.contains(a)) {
                distinct.add(a);
            }
        }
        distinct.sort(java.util.Comparator.comparingInt(a -> a == null ? Integer.MIN_VALUE : System.identityHashCode(a)));
        int[] order = new int[n];
        long[] counts = new long[distinct.size()];
        int filled = 0;
        for (int g = 0; g < distinct.size(); g++) {
            for (int i = 0; i < n; i++) {
                if (adapters[i] == distinct.get(g)) {
                    order[filled++] = i;
                    counts[g]++;
                }
            }
        }
        RowGroups groups = new RowGroups(distinct, counts, manager);
        KvCache[] ordered = new KvCache[n];
        long[] ids = new long[n];
        long[] positions = new long[n];
        for (int r = 0; r < n; r++) {
            ordered[r] = caches[order[r]];
            ids[r] = tokens[order[r]];
            positions[r] = ordered[r].length();
        }
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDList idGroups = groups.split(manager.create(ids));
            NDList embedded = new NDList(idGroups.size());
            for (int g = 0; g < idGroups.size(); g++) {
                embedded.add(embed(idGroups.get(g), distinct.get(g)));
            }
            // From here on the step has MAX_DECODE_ROWS rows: the real ones, then zero rows that
            // no row-wise operation mixes into them and that attention and the experts skip.
            NDArray x = padRows(groups.join(embedded));
            NDArray positionIndex = manager.create(java.util.Arrays.copyOf(positions, MAX_DECODE_ROWS));
            for (int i = 0; i < config.numHiddenLayers(); i++) {
                String p = "model.layers." + i + ".";
                NDArray h = rmsNorm(x, weights.get(p + "input_layernorm.weight"));
                x = decodeAttention(i, h, x, ordered, positionIndex, groups);
                h = rmsNorm(x, weights.get(p + "post_attention_layernorm.weight"));
                x = config.isMoeLayer(i)
                        ? decodeMoe(p + "feed_forward.", h, x, groups)
                        : decodeSwiglu(p + "feed_forward.", h, x, groups);
            }
            for (KvCache cache : ordered) {
                cache.advance(1);
            }
            NDArray normedRows = rmsNorm(x, weights.get("model.norm.weight"));
            NDArray logits;
            if (distinct.size() == 1) {
                logits = linear(normedRows, headWeight(distinct.get(0)), null).get(new NDIndex("0:{}", n));
            } else {
                // each adapter's rows padded to MAX_DECODE_ROWS by repeating one, through its own
                // head; then each row takes its own row of the heads' outputs
                List<Integer> all = groups.all();
                NDList normed = groups.gathered(normedRows, all).split(distinct.size(), 0);
                NDList heads = new NDList(normed.size());
                for (int g = 0; g < normed.size(); g++) {
                    heads.add(linear(normed.get(g), headWeight(distinct.get(g)), null));
                }
                logits = NDArrays.concat(heads, 0).get(new NDIndex("{}", groups.updateRows(all))).get(new NDIndex("0:{}", n));
            }
            float[] flat = logits.toType(DataType.FLOAT32, false).toFloatArray();
            int vocab = flat.length / n;
            float[][] out = new float[n][];
            for (int r = 0; r < n; r++) {
                out[order[r]] = java.util.Arrays.copyOfRange(flat, r * vocab, (r + 1) * vocab);
            }
            return out;
        }
    }

    /** The output head of rows of an adapter (or of the base model: null). */
    private NDArray headWeight(LoraAdapter adapter) {
        return config.tieWordEmbeddings() ? weightFor("model.embed_tokens.weight", adapter) : weightFor("lm_head.weight", adapter);
    }

    /** Most rows of one decoding step (see {@link #forwardDecode}). */
    public static final int MAX_DECODE_ROWS = 8;

    /**
     * The rows of a decoding step, grouped by adapter: {@code counts[g]} rows of {@code adapters[g]},
     * in that order. Keeps the step's row indexes of groups of adapters, made once per step, and the
     * last gather of rows (the projections of one input share it).
     */
    private static final class RowGroups {

        private final List<LoraAdapter> adapters;
        private final long[] counts;
        private final NDManager manager;
        private final Map<List<Integer>, NDArray[]> indexes = new java.util.HashMap<>();
        private NDArray gatheredFrom;
        private List<Integer> gatheredGroups;
        private NDArray gathered;

        RowGroups(List<LoraAdapter> adapters, long[] counts, NDManager manager) {
            this.adapters = adapters;
            this.counts = counts;
            this.manager = manager;
        }

        List<LoraAdapter> adapters() {
            return adapters;
        }

        /** Every group, in order. */
        List<Integer> all() {
            List<Integer> all = new ArrayList<>(counts.length);
            for (int g = 0; g < counts.length; g++) {
                all.add(g);
            }
            return all;
        }

        /** The rows of {@code x} per group. */
        NDList split(NDArray x) {
            if (counts.length == 1) {
                return new NDList(x);
            }
            long[] cuts = new long[counts.length - 1];
            long at = 0;
            for (int g = 0; g < cuts.length; g++) {
                at += counts[g];
                cuts[g] = at;
            }
            return x.split(cuts, 0);
        }

        NDArray join(NDList pieces) {
            return pieces.size() == 1 ? pieces.get(0) : NDArrays.concat(pieces, 0);
        }

        /** The rows of groups {@code gs}, in that order, each group's padded to {@link #MAX_DECODE_ROWS} by repeating its last. */
        long[] padded(List<Integer> gs) {
            long[] rows = new long[gs.size() * MAX_DECODE_ROWS];
            for (int i = 0; i < gs.size(); i++) {
                int g = gs.get(i);
                for (int j = 0; j < MAX_DECODE_ROWS; j++) {
                    rows[i * MAX_DECODE_ROWS + j] = start(g) + Math.min(j, counts[g] - 1);
                }
            }
            return rows;
        }

        /** {@code x}'s rows of groups {@code gs}, as {@link #padded}. */
        NDArray gathered(NDArray x, List<Integer> gs) {
            if (x != gatheredFrom || !gs.equals(gatheredGroups)) {
                gathered = x.get(new NDIndex("{}", gatherIndex(gs)));
                gatheredFrom = x;
                gatheredGroups = gs;
            }
            return gathered;
        }

        /** Whether groups {@code gs} hold every real row of the step. */
        boolean covers(List<Integer> gs) {
            return gs.size() == counts.length;
        }

        NDArray gatherIndex(List<Integer> gs) {
            return indexes(gs)[0];
        }

        /**
         * For each row of the step, its row among the {@link #padded} rows of groups {@code gs},
         * which hold every real row ({@link #covers}); padding rows take the first.
         */
        NDArray updateRows(List<Integer> gs) {
            return indexes(gs)[1];
        }

        /**
         * For each row of the step, where it is in the step's rows followed by the {@link #padded}
         * rows of groups {@code gs}: a row of those groups its row among the latter, any other
         * row itself.
         */
        NDArray backRows(List<Integer> gs) {
            return indexes(gs)[2];
        }

        private NDArray[] indexes(List<Integer> gs) {
            return indexes.computeIfAbsent(List.copyOf(gs), key -> {
                long[] slots = new long[MAX_DECODE_ROWS];
                long[] back = new long[MAX_DECODE_ROWS];
                for (int r = 0; r < MAX_DECODE_ROWS; r++) {
                    back[r] = r;
                }
                for (int i = 0; i < key.size(); i++) {
                    int g = key.get(i);
                    long start = start(g);
                    for (int j = 0; j < counts[g]; j++) {
                        slots[(int) (start + j)] = (long) i * MAX_DECODE_ROWS + j;
                        back[(int) (start + j)] = MAX_DECODE_ROWS + (long) i * MAX_DECODE_ROWS + j;
                    }
                }
                return new NDArray[] {manager.create(padded(key)), manager.create(slots), manager.create(back)};
            });
        }

        /** The real rows of the step (without its padding rows). */
        int rows() {
            long all = 0;
            for (long c : counts) {
                all += c;
            }
            return (int) all;
        }

        /** The first row of group {@code g}. */
        long start(int g) {
            long at = 0;
            for (int i = 0; i < g; i++) {
                at += counts[i];
            }
            return at;
        }
    }

    /**
     * {@code residual} plus attention of one new position per row, each against its own cache
     * (see {@link #attention}; the same operations as a single-row {@link #forwardCached}).
     */
    private NDArray decodeAttention(int layer, NDArray x, NDArray residual, KvCache[] caches, NDArray positions,
            RowGroups groups) {
        String p = "model.layers." + layer + ".self_attn.";
        int n = caches.length;
        int rows = (int) x.getShape().get(0);
        int heads = config.numAttentionHeads();
        int kvHeads = config.numKeyValueHeads();
        int d = config.headDim();
        int group = heads / kvHeads;
        boolean rope = config.usesRope(layer);
        boolean qkNorm = rope && config.useQkNorm();
        double scale = 1.0 / Math.sqrt(d);
        NDArray q = decodeProject(x, p + "q_proj", groups, null, qkNorm ? 1.0 : scale).reshape(rows, 1, heads, d);
        NDArray k = decodeProject(x, p + "k_proj", groups, null, 1.0).reshape(rows, 1, kvHeads, d);
        NDArray v = decodeProject(x, p + "v_proj", groups, null, 1.0).reshape(rows, 1, kvHeads, d);
        if (rope) {
            NDArray cos = ropeCos.get(new NDIndex("{}", positions)).reshape(rows, 1, 1, d);
            NDArray sin = ropeSin.get(new NDIndex("{}", positions)).reshape(rows, 1, 1, d);
            q = rope(q, cos, sin);
            k = rope(k, cos, sin);
            if (qkNorm) {
                q = l2Norm(q).mul(scalar(scale));
                k = l2Norm(k);
            }
        }
        // the real rows one by one (a last piece holds the padding rows, which attend to nothing)
        long[] cuts = new long[n];
        for (int r = 0; r < n; r++) {
            cuts[r] = r + 1;
        }
        NDList keyRows = k.transpose(0, 2, 1, 3).split(cuts, 0);
        NDList valueRows = v.transpose(0, 2, 1, 3).split(cuts, 0);
        NDList queryRows = q.reshape(rows, kvHeads, group, d).split(cuts, 0);
        NDList contexts = new NDList(n);
        for (int r = 0; r < n; r++) {
            NDArray keys = caches[r].append(layer, keyRows.get(r), valueRows.get(r))[0];
            NDArray values = caches[r].values(layer);
            int total = (int) keys.getShape().get(2);
            NDArray scores = queryRows.get(r).reshape(kvHeads, group, d)
                    .matMul(keys.transpose(0, 1, 3, 2).reshape(kvHeads, d, total));
            NDArray probs = scores.softmax(-1);
            scores.close();
            contexts.add(probs.matMul(values.reshape(kvHeads, total, d)));
            probs.close();
        }
        NDArray context = padRows(NDArrays.concat(contexts, 0).reshape(n, (long) heads * d));
        return decodeProject(context, p + "o_proj", groups, residual, 1.0);
    }

    /** {@link #swiglu} over decoding rows. */
    private NDArray decodeSwiglu(String prefix, NDArray x, NDArray residual, RowGroups groups) {
        NDArray gate = decodeProject(x, prefix + "gate_proj", groups, null, 1.0);
        NDArray up = decodeProject(x, prefix + "up_proj", groups, null, 1.0);
        return decodeProject(silu(gate).mul(up), prefix + "down_proj", groups, residual, 1.0);
    }

    /**
     * {@link #moe} over decoding rows: routing per row, one product per chosen expert over its rows
     * (the real rows only: the padding rows are not routed and get no expert's output).
     */
    private NDArray decodeMoe(String prefix, NDArray x, NDArray residual, RowGroups groups) {
        long hidden = x.getShape().get(1);
        int n = groups.rows();
        int k = config.numExpertsPerTok();
        NDArray logits = linear(x, weights.get(prefix + "router.weight"), null);
        NDList top = logits.topK(k, -1, true, true);
        NDArray weightsTop = top.get(0).getNDArrayInternal().sigmoid();
        long[] chosen = top.get(1).toLongArray();
        // Slots grouped by expert, experts in ascending order (as moe sorts them).
        Map<Long, List<Integer>> byExpert = new java.util.TreeMap<>();
        for (int slot = 0; slot < n * k; slot++) {
            byExpert.computeIfAbsent(chosen[slot], e -> new ArrayList<>()).add(slot);
        }
        // Each chosen expert's rows, padded by repeating one to MAX_DECODE_ROWS, gathered at once:
        // one product pair per expert, all of the same height; pick finds each slot's output.
        int experts = byExpert.size();
        long[] padded = new long[experts * MAX_DECODE_ROWS];
        long[] pick = new long[n * k];
        int e = 0;
        for (List<Integer> slots : byExpert.values()) {
            for (int j = 0; j < MAX_DECODE_ROWS; j++) {
                padded[e * MAX_DECODE_ROWS + j] = slots.get(Math.min(j, slots.size() - 1)) / k;
            }
            for (int j = 0; j < slots.size(); j++) {
                pick[slots.get(j)] = (long) e * MAX_DECODE_ROWS + j;
            }
            e++;
        }
        NDManager m = x.getManager();
        NDList expertIn = x.get(new NDIndex("{}", m.create(padded))).split(experts, 0);
        NDArray gateUp = weights.get(prefix + "experts.gate_up_proj");
        NDArray down = weights.get(prefix + "experts.down_proj");
        NDList outs = new NDList(experts);
        int i = 0;
        for (long expert : byExpert.keySet()) {
            NDList gu = expertIn.get(i++).matMul(gateUp.get(expert)).split(2, 1);
            outs.add(silu(gu.get(0)).mul(gu.get(1)).matMul(down.get(expert)));
        }
        NDArray expertOut = outs.size() == 1 ? outs.get(0) : NDArrays.concat(outs);
        NDArray slotWeights = weightsTop.reshape(-1).get(new NDIndex("0:{}", n * k)).reshape(-1, 1);
        NDArray routed = expertOut.get(new NDIndex("{}", m.create(pick))).mul(slotWeights);
        if (k > 1) {
            routed = routed.reshape(n, k, hidden).sum(new int[] {1});
        }
        return decodeSwiglu(prefix + "shared_expert.", x, residual.add(padRows(routed)), groups);
    }

    /**
     * {@link #project} over decoding rows: the base product over all rows, then the LoRA updates
     * of all adapters at once (see {@link #decodeLora}).
     */
    private NDArray decodeProject(NDArray x, String module, RowGroups groups, NDArray bias, double scale) {
        NDArray w = weights.get(module + ".weight");
        boolean scaleOutput = scale != 1.0 && bias == null && x.getShape().get(0) < w.getShape().get(1);
        double weightScale = scaleOutput ? 1.0 : scale;
        NDArray y = linear(x, weightScale == 1.0 ? w : w.mul(scalar(weightScale)), bias);
        y = decodeLora(x, y, module, groups, weightScale);
        return scaleOutput ? y.mul(scalar(scale)) : y;
    }

    /**
     * {@code y} plus each row's LoRA update {@code x A^T (s B)^T} for the module, for every adapter
     * in the step in one pair of batched products: the rows of each adapter form one matrix of the
     * batch, padded by repeating a row to {@link #MAX_DECODE_ROWS} (see {@link #forwardDecode}),
     * and the adapters' {@code A^T} and scaled {@code B^T} are stacked (and kept while the same
     * adapters decode together). Adapters of different ranks take one pair of products per rank.
     * Each row then adds its own row of the updates; rows without an update for the module keep
     * their values of {@code y} as they are.
     */
    private NDArray decodeLora(NDArray x, NDArray y, String module, RowGroups groups, double weightScale) {
        Map<Long, List<Integer>> byRank = new java.util.TreeMap<>();
        for (int g = 0; g < groups.adapters().size(); g++) {
            LoraAdapter a = groups.adapters().get(g);
            NDArray[] ab = a == null ? null : a.module(module);
            if (ab != null) {
                byRank.computeIfAbsent(ab[0].getShape().get(0), r -> new ArrayList<>()).add(g);
            }
        }
        long in = x.getShape().get(1);
        long out = y.getShape().get(1);
        for (List<Integer> adapted : byRank.values()) {
            List<LoraAdapter> adapters = new ArrayList<>(adapted.size());
            adapted.forEach(g -> adapters.add(groups.adapters().get(g)));
            NDArray[] stacked = stackedLora(adapters, module, weightScale);
            // One adapter for every real row: the step's rows as they are (its padding rows get an
            // update too, which nothing reads).
            boolean asIs = adapted.size() == 1 && groups.adapters().size() == 1;
            NDArray update = (asIs ? x : groups.gathered(x, adapted)).reshape(adapted.size(), MAX_DECODE_ROWS, in)
                    .matMul(stacked[0]).matMul(stacked[1]).reshape((long) adapted.size() * MAX_DECODE_ROWS, out);
            if (asIs) {
                y = y.add(update);
            } else if (groups.covers(adapted)) {
                y = y.add(update.get(new NDIndex("{}", groups.updateRows(adapted))));
            } else {
                // Rows of other groups: their own values of y, taken back unchanged.
                NDArray updated = y.get(new NDIndex("{}", groups.gatherIndex(adapted))).add(update);
                y = y.concat(updated, 0).get(new NDIndex("{}", groups.backRows(adapted)));
            }
        }
        return y;
    }

    /** Stacked {@code A^T} {@code [G, in, r]} and scaled {@code B^T} {@code [G, r, out]} of adapters for a module. */
    private NDArray[] stackedLora(List<LoraAdapter> adapters, String module, double weightScale) {
        List<Object> key = new ArrayList<>(adapters.size() + 2);
        key.add(module);
        key.add(weightScale);
        key.addAll(adapters);
        synchronized (stackedLora) {
            NDArray[] cached = stackedLora.get(key);
            if (cached != null) {
                return cached;
            }
            NDList aT = new NDList(adapters.size());
            NDList bT = new NDList(adapters.size());
            for (LoraAdapter a : adapters) {
                NDArray[] t = transposedLora(a, module, weightScale);
                aT.add(t[0]);
                bT.add(t[1]);
            }
            NDArray[] stacked = {NDArrays.stack(aT), NDArrays.stack(bT)};
            for (NDArray arr : stacked) {
                NDScope.unregister(arr);
                arr.attach(manager);
            }
            stackedLora.put(key, stacked);
            return stacked;
        }
    }

    /**
     * An adapter's {@code A^T} and scaled {@code B^T} for a module, contiguous, made once and kept
     * with the adapter's own arrays (freed when it is closed).
     */
    private NDArray[] transposedLora(LoraAdapter adapter, String module, double weightScale) {
        synchronized (transposedLora) {
            Map<String, NDArray[]> perModule = transposedLora.computeIfAbsent(adapter, a -> new java.util.HashMap<>());
            return perModule.computeIfAbsent(module + "|" + weightScale, k -> {
                NDArray[] ab = adapter.module(module);
                NDArray[] t = {ab[0].transpose().duplicate(),
                    ab[1].mul(scalar(weightScale * adapter.config().scaling())).transpose().duplicate()};
                for (NDArray arr : t) {
                    NDScope.unregister(arr);
                    arr.attach(ab[0].getManager());
                }
                return t;
            });
        }
    }

    /** Rows {@code [n, width]} of a decoding step followed by zero rows up to {@link #MAX_DECODE_ROWS}. */
    private static NDArray padRows(NDArray x) {
        long rows = x.getShape().get(0);
        if (rows == MAX_DECODE_ROWS) {
            return x;
        }
        return x.concat(x.getManager().zeros(new ai.djl.ndarray.types.Shape(MAX_DECODE_ROWS - rows, x.getShape().get(1)),
                x.getDataType(), x.getDevice()), 0);
    }

    /** A base weight, or the adapter's fully trained replacement of it. */
    private NDArray weightFor(String name, LoraAdapter adapter) {
        NDArray replaced = adapter == null ? null : adapter.savedWeight(name);
        return replaced != null ? replaced : weights.get(name);
    }

    /** Embeddings {@code [N, hidden]} of token ids {@code [N]}. */
    private NDArray embed(NDArray ids, LoraAdapter adapter) {
        NDArray table = weightFor("model.embed_tokens.weight", adapter);
        return table.getNDArrayInternal().embedding(ids, table, SparseFormat.DENSE).singletonOrThrow();
    }

    private NDArray head(NDArray x, LoraAdapter adapter) {
        NDArray h = rmsNorm(x, weights.get("model.norm.weight"));
        NDArray w = config.tieWordEmbeddings() ? weightFor("model.embed_tokens.weight", adapter)
                : weightFor("lm_head.weight", adapter);
        return linear(h, w, null);
    }

    /**
     * One decoder layer over the residual stream {@code x [B * T, hidden]} (B sequences of T
     * positions, row-major). Activations stay two-dimensional so that every projection is one
     * matrix product, and the residual additions are folded into the output projections.
     */
    private NDArray block(int layer, NDArray x, long b, int t, LoraAdapter adapter, boolean dropout, int past, KvCache cache) {
        String p = "model.layers." + layer + ".";
        NDArray h = rmsNorm(x, weights.get(p + "input_layernorm.weight"));
        x = attention(layer, h, x, b, t, adapter, dropout, past, cache);
        h = rmsNorm(x, weights.get(p + "post_attention_layernorm.weight"));
        return config.isMoeLayer(layer)
                ? moe(p + "feed_forward.", h, x, adapter, dropout)
                : swiglu(p + "feed_forward.", h, x, adapter, dropout);
    }

    /**
     * {@code residual} plus causal grouped-query attention over {@code x [B * T, hidden]}; with a
     * cache, the new positions follow {@code past} cached ones and attend to them too.
     *
     * <p>Queries are processed in blocks of {@link #queryBlock} positions, and each block only
     * multiplies with the keys up to its last position: the fully masked part of the score matrix
     * (about half of it) is never computed, and each block's scores stay small enough to live in
     * cache and in reused heap memory instead of being page-faulted in as one {@code T²} tensor per
     * head. The rows of a block are ordered (position, query head of the group), so the queries
     * sharing a key/value head form one matrix product with that head's keys. The softmax scale
     * {@code 1/sqrt(head_dim)} is folded into the query projection (applied after the QK norm
     * when there is one, as the norm would undo it).
     */
    NDArray attention(int layer, NDArray x, NDArray residual, long b, int t, LoraAdapter adapter, boolean dropout,
            int past, KvCache cache) {
        String p = "model.layers." + layer + ".self_attn.";
        int heads = config.numAttentionHeads();
        int kvHeads = config.numKeyValueHeads();
        int d = config.headDim();
        int group = heads / kvHeads;
        boolean rope = config.usesRope(layer);
        boolean qkNorm = rope && config.useQkNorm();
        double scale = 1.0 / Math.sqrt(d);
        NDArray q = project(x, p + "q_proj", adapter, dropout, null, qkNorm ? 1.0 : scale).reshape(b, t, heads, d);
        NDArray k = project(x, p + "k_proj", adapter, dropout, null, 1.0).reshape(b, t, kvHeads, d);
        NDArray v = project(x, p + "v_proj", adapter, dropout, null, 1.0).reshape(b, t, kvHeads, d);
        if (rope) {
            NDArray cos = ropeCos.get(new NDIndex().addSliceDim(past, past + t)).reshape(t, 1, d);
            NDArray sin = ropeSin.get(new NDIndex().addSliceDim(past, past + t)).reshape(t, 1, d);
            q = rope(q, cos, sin);
            k = rope(k, cos, sin);
            if (qkNorm) {
                q = l2Norm(q).mul(scalar(scale));
                k = l2Norm(k);
            }
        }
        k = k.transpose(0, 2, 1, 3);
        v = v.transpose(0, 2, 1, 3);
        if (cache != null) {
            k = cache.append(layer, k, v)[0];
            v = cache.values(layer);
        }
        int total = (int) k.getShape().get(2);
        NDArray queries = q.reshape(b, t, kvHeads, group, d).transpose(0, 2, 1, 3, 4).reshape(b * kvHeads, (long) t * group, d);
        NDArray keysT = k.transpose(0, 1, 3, 2).reshape(b * kvHeads, d, total);
        NDArray values = v.reshape(b * kvHeads, total, d);
        int block = queryBlock;
        int blocks = (t + block - 1) / block;
        long[] splits = new long[blocks - 1];
        for (int i = 1; i < blocks; i++) {
            splits[i - 1] = (long) i * block * group;
        }
        NDList queryBlocks = queries.split(splits, 1);
        NDList contexts = new NDList(blocks);
        for (int i = 0; i < blocks; i++) {
            int rows = Math.min(block, t - i * block);
            int keys = past + i * block + rows;
            NDArray scores = queryBlocks.get(i).matMul(keys == total ? keysT : keysT.get(new NDIndex(":, :, :{}", keys)));
            if (rows > 1) {
                NDArray masked = scores.add(blockMask(group, rows, keys));
                scores.close();
                scores = masked;
            }
            // Autograd keeps what backward needs; closing frees the rest at once, not at scope end.
            NDArray probs = scores.softmax(-1);
            scores.close();
            contexts.add(probs.matMul(keys == total ? values : values.get(new NDIndex(":, :{}", keys))));
            probs.close();
        }
        NDArray context = blocks == 1 ? contexts.get(0) : NDArrays.concat(contexts, 1);
        NDArray out = context.reshape(b, kvHeads, t, group, d).transpose(0, 2, 1, 3, 4).reshape(b * t, (long) heads * d);
        return project(out, p + "o_proj", adapter, dropout, residual, 1.0);
    }

    /** {@code residual} plus SwiGLU {@code down(silu(gate(x)) * up(x))} of {@code x [N, hidden]}. */
    NDArray swiglu(String prefix, NDArray x, NDArray residual, LoraAdapter adapter, boolean dropout) {
        NDArray gate = project(x, prefix + "gate_proj", adapter, dropout, null, 1.0);
        NDArray up = project(x, prefix + "up_proj", adapter, dropout, null, 1.0);
        return project(silu(gate).mul(up), prefix + "down_proj", adapter, dropout, residual, 1.0);
    }

    /**
     * {@code residual} plus a mixture of experts over {@code x [N, hidden]}: the shared expert sees
     * every token; each token also goes to its top-k routed experts, whose outputs are weighted by
     * the sigmoid of the chosen router logits. Tokens are sorted by expert so that each expert runs
     * one matrix product over its tokens.
     */
    NDArray moe(String prefix, NDArray x, NDArray residual, LoraAdapter adapter, boolean dropout) {
        long hidden = x.getShape().get(1);
        int n = (int) x.getShape().get(0);
        int k = config.numExpertsPerTok();
        int experts = config.numLocalExperts();
        NDArray logits = linear(x, weights.get(prefix + "router.weight"), null);
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
        int[] active = IntStream.range(0, experts).filter(e -> counts[e] > 0).toArray();
        NDManager m = x.getManager();
        // The sorted inputs, and stacked weights that are being trained, are cut into per-expert
        // pieces with one split each: a split's backward writes all pieces' gradients into one
        // array, where slicing piece by piece would allocate and zero a gradient of the whole
        // array for every expert. Frozen weights are indexed per active expert (decoding uses one).
        long[] cuts = new long[active.length - 1];
        for (int i = 1; i < active.length; i++) {
            cuts[i - 1] = start[active[i]];
        }
        NDList sortedIn = x.get(new NDIndex("{}", m.create(tokenOf))).split(cuts, 0);
        NDArray gateUp = weights.get(prefix + "experts.gate_up_proj");
        NDArray down = weights.get(prefix + "experts.down_proj");
        NDList gateUpPieces = gateUp.hasGradient() ? gateUp.split(experts, 0) : null;
        NDList downPieces = down.hasGradient() ? down.split(experts, 0) : null;
        NDList outs = new NDList(active.length);
        for (int i = 0; i < active.length; i++) {
            int e = active[i];
            NDArray gateUpE = gateUpPieces != null ? gateUpPieces.get(e).squeeze(0) : gateUp.get(e);
            NDArray downE = downPieces != null ? downPieces.get(e).squeeze(0) : down.get(e);
            NDList gu = sortedIn.get(i).matMul(gateUpE).split(2, 1);
            outs.add(silu(gu.get(0)).mul(gu.get(1)).matMul(downE));
        }
        NDArray sortedOut = outs.size() == 1 ? outs.get(0) : NDArrays.concat(outs);
        NDArray sortedWeights = weightsTop.reshape(-1).get(new NDIndex("{}", m.create(order))).reshape(-1, 1);
        NDArray routed = sortedOut.mul(sortedWeights).get(new NDIndex("{}", m.create(inverse)));
        if (k > 1) {
            routed = routed.reshape(n, k, hidden).sum(new int[] {1});
        }
        return swiglu(prefix + "shared_expert.", x, residual.add(routed), adapter, dropout);
    }

    /**
     * {@code bias + scale * (x W^T + lora_scaling * B A dropout(x))}, the LoRA term only when the
     * adapter targets the module; {@code bias} may be null. Each addition is the accumulating form
     * of a matrix product, and the scales multiply the smaller operand: the weights when many
     * tokens are projected at once (training), the output for a few (decoding), so no extra pass
     * over the activations of a training step is made.
     */
    NDArray project(NDArray x, String module, LoraAdapter adapter, boolean dropout, NDArray bias, double scale) {
        NDArray w = weights.get(module + ".weight");
        boolean scaleOutput = scale != 1.0 && bias == null && x.getShape().get(0) < w.getShape().get(1);
        double weightScale = scaleOutput ? 1.0 : scale;
        NDArray y = linear(x, weightScale == 1.0 ? w : w.mul(scalar(weightScale)), bias);
        NDArray[] ab = adapter == null ? null : adapter.module(module);
        if (ab != null) {
            double rate = adapter.config().dropout();
            NDArray in = dropout && rate > 0 ? Dropout.apply(x, rate) : x;
            y = linear(linear(in, ab[0], null), ab[1].mul(scalar(weightScale * adapter.config().scaling())), y);
        }
        return scaleOutput ? y.mul(scalar(scale)) : y;
    }

    /** {@code x W^T + bias} for {@code x [N, in]}, {@code W [out, in]} and an optional {@code bias [N, out]}. */
    private static NDArray linear(NDArray x, NDArray w, NDArray bias) {
        return x.getNDArrayInternal().linear(x, w, bias).singletonOrThrow();
    }

    /** RMSNorm over the last axis: {@code x * weight / sqrt(mean(x^2) + eps)}. */
    NDArray rmsNorm(NDArray x, NDArray weight) {
        return x.mul(weight).mul(inverseRms(x));
    }

    /** {@code x / sqrt(mean(x^2) + eps)} over the last axis. */
    NDArray l2Norm(NDArray x) {
        return x.mul(inverseRms(x));
    }

    private NDArray inverseRms(NDArray x) {
        return x.mul(x).mean(new int[] {-1}, true).add(scalar(config.rmsNormEps())).pow(scalar(-0.5));
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

    /**
     * The additive causal mask of one query block: {@code [rows * group, keys]} for the query
     * positions {@code keys - rows .. keys - 1} (each repeated for the {@code group} query heads
     * of a key/value head) against keys {@code 0 .. keys - 1}; 0 where the key is not after the
     * query, -inf where it is. Every block's mask is the bottom-right corner of one cached array
     * as wide as the longest sequence.
     */
    private NDArray blockMask(int group, int rows, int keys) {
        int width = config.maxPositionEmbeddings();
        int height = Math.min(queryBlock, width);
        NDArray mask = blockMasks.computeIfAbsent(height, size -> {
            float[] values = new float[size * group * width];
            for (int r = 0; r < size; r++) {
                for (int j = width - size + r + 1; j < width; j++) {
                    for (int g = 0; g < group; g++) {
                        values[(r * group + g) * width + j] = Float.NEGATIVE_INFINITY;
                    }
                }
            }
            NDArray created = manager.create(values, new Shape((long) size * group, width)).toType(dtype, false);
            NDScope.unregister(created);
            return created;
        });
        return mask.get(new NDIndex("{}:, {}:", (long) (height - rows) * group, width - keys));
    }

    @Override
    public void close() {
        manager.close();
    }
}
