package dev.mlinfra.engine.generate;

import ai.djl.pytorch.jni.JniUtils;
import dev.mlinfra.engine.model.KvCache;
import dev.mlinfra.engine.model.LlamaModel;
import dev.mlinfra.engine.model.LoraAdapter;
import dev.mlinfra.engine.tokenizer.ByteTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Autoregressive generation with a key/value cache per sequence: a sequence's prompt is prefilled
 * once ({@link #start}), then every {@link #step} decodes one token for each of several sequences
 * in one batched forward pass ({@link LlamaModel#forwardDecode}). Sequences may join and leave
 * between steps and use different adapters; sampling state (seed, temperature, top-p, top-k, stop
 * strings, max tokens) is per sequence. A sequence's tokens do not depend on which others share
 * its steps: {@link #generate} of one prompt alone decodes through the same batched step.
 */
public final class Generator {

    private final LlamaModel model;
    private final ByteTokenizer tokenizer;
    private final Set<Integer> endIds;

    public Generator(LlamaModel model, ByteTokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.endIds = Set.copyOf(model.config().eosTokenId());
    }

    /** Generates without streaming. */
    public GenerationResult generate(int[] prompt, LoraAdapter adapter, SamplingParams params) {
        return generate(prompt, adapter, params, null);
    }

    /**
     * Generates a continuation of {@code prompt}. {@code onText}, when given, receives text as it
     * becomes final (never a piece of a stop string, never half a UTF-8 character); an exception it
     * throws stops the generation and is passed on.
     */
    public GenerationResult generate(int[] prompt, LoraAdapter adapter, SamplingParams params, Consumer<String> onText) {
        try (Sequence sequence = start(prompt, adapter, params, onText)) {
            List<Sequence> alone = List.of(sequence);
            while (!sequence.finished()) {
                step(alone);
                if (sequence.failure() != null) {
                    throw sequence.failure();
                }
            }
            return sequence.result();
        }
    }

    /**
     * Prefills {@code prompt} into a new sequence's cache and samples its first token (passing text
     * to {@code onText}, whose exceptions are passed on here). The sequence may be finished at once
     * (end token, stop string, {@code max_tokens} 1); otherwise {@link #step} continues it. The
     * caller closes it (a finished sequence has already freed its cache).
     */
    public Sequence start(int[] prompt, LoraAdapter adapter, SamplingParams params, Consumer<String> onText) {
        int limit = model.config().maxPositionEmbeddings();
        if (prompt.length == 0) {
            throw new IllegalArgumentException("prompt must not be empty");
        }
        if (prompt.length >= limit) {
            throw new IllegalArgumentException("prompt has " + prompt.length + " tokens; the model's context is " + limit);
        }
        Sequence sequence = new Sequence(prompt.length, adapter, params, onText, Math.min(params.maxTokens(), limit - prompt.length));
        boolean grad = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            float[] logits = model.forwardCached(prompt, sequence.cache, adapter);
            sequence.accept(sample(logits, params, sequence.random));
            return sequence;
        } catch (RuntimeException e) {
            sequence.close();
            throw e;
        } finally {
            JniUtils.setGradMode(grad);
        }
    }

    /**
     * Decodes one token for every unfinished sequence given, at most
     * {@link LlamaModel#MAX_DECODE_ROWS} rows per forward pass. A sequence whose {@code onText}
     * throws is finished with that {@link Sequence#failure()}; the others go on.
     */
    public void step(List<Sequence> sequences) {
        List<Sequence> active = new ArrayList<>(sequences.size());
        for (Sequence s : sequences) {
            if (!s.finished()) {
                active.add(s);
            }
        }
        boolean grad = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            for (int from = 0; from < active.size(); from += LlamaModel.MAX_DECODE_ROWS) {
                List<Sequence> rows = active.subList(from, Math.min(active.size(), from + LlamaModel.MAX_DECODE_ROWS));
                int n = rows.size();
                int[] tokens = new int[n];
                KvCache[] caches = new KvCache[n];
                LoraAdapter[] adapters = new LoraAdapter[n];
                for (int r = 0; r < n; r++) {
                    Sequence s = rows.get(r);
                    tokens[r] = s.last;
                    caches[r] = s.cache;
                    adapters[r] = s.adapter;
                }
                float[][] logits = model.forwardDecode(tokens, caches, adapters);
                for (int r = 0; r < n; r++) {
                    Sequence s = rows.get(r);
                    try {
                        s.accept(sample(logits[r], s.params, s.random));
                    } catch (RuntimeException e) {
                        s.fail(e);
                    }
                }
            }
        } finally {
            JniUtils.setGradMode(grad);
        }
    }

    /**
     * One generation in progress: its cache, its sampling state and the text so far. Used by one
     * thread at a time.
     */
    public final class Sequence implements AutoCloseable {
        private final int promptTokens;
        private final LoraAdapter adapter;
        private final SamplingParams params;
        private final Consumer<String> onText;
        private final int maxTokens;
        private final Random random;
        private final int holdBack;
        private final KvCache cache = new KvCache(model.config().numHiddenLayers());
        private final ByteTokenizer.StreamDecoder decoder = tokenizer.streamDecoder();
        private final StringBuilder text = new StringBuilder();
        private final long start = System.nanoTime();
        private long firstToken;
        private long end;
        private int emitted;
        private int generated;
        /** The last sampled token: the next step's input. */
        private int last;
        private String finish;
        private RuntimeException failure;

        private Sequence(int promptTokens, LoraAdapter adapter, SamplingParams params, Consumer<String> onText, int maxTokens) {
            this.promptTokens = promptTokens;
            this.adapter = adapter;
            this.params = params;
            this.onText = onText;
            this.maxTokens = maxTokens;
            this.random = params.seed() == null ? new Random() : new Random(params.seed());
            this.holdBack = params.stop().stream().mapToInt(String::length).max().orElse(1) - 1;
        }

        /** Takes a sampled token: ends on an end token, a stop string or the token budget, else passes text on. */
        private void accept(int next) {
            generated++;
            last = next;
            if (firstToken == 0) {
                firstToken = System.nanoTime() - start;
            }
            if (endIds.contains(next)) {
                finish("stop", false);
                return;
            }
            text.append(decoder.accept(next));
            int stopAt = stopIndex(text, params, Math.max(0, emitted - holdBack));
            if (stopAt >= 0) {
                text.setLength(stopAt);
                finish("stop", true);
                return;
            }
            if (onText != null && text.length() - holdBack > emitted) {
                int upTo = text.length() - holdBack;
                if (upTo > 0 && Character.isHighSurrogate(text.charAt(upTo - 1))) {
                    upTo--;
                }
                if (upTo > emitted) {
                    String piece = text.substring(emitted, upTo);
                    emitted = upTo;
                    onText.accept(piece);
                }
            }
            if (generated >= maxTokens) {
                finish("length", false);
            }
        }

        private void finish(String reason, boolean stoppedByString) {
            finish = reason;
            end = System.nanoTime();
            cache.close();
            if (!stoppedByString) {
                text.append(decoder.finish());
            }
            if (onText != null && text.length() > emitted) {
                String rest = text.substring(emitted);
                emitted = text.length();
                onText.accept(rest);
            }
        }

        private void fail(RuntimeException e) {
            failure = e;
            if (finish == null) {
                finish = "abort";
                end = System.nanoTime();
            }
            cache.close();
        }

        /** Ended: by an end token, a stop string, the token budget or a failure. */
        public boolean finished() {
            return finish != null;
        }

        /** What the text callback threw, or null. */
        public RuntimeException failure() {
            return failure;
        }

        /** Tokens generated so far. */
        public int generated() {
            return generated;
        }

        /** The adapter this sequence decodes with, or null for the base. */
        public LoraAdapter adapter() {
            return adapter;
        }

        /** The outcome; only once {@link #finished()}. */
        public GenerationResult result() {
            if (!finished()) {
                throw new IllegalStateException("the sequence is still generating");
            }
            return new GenerationResult(text.toString(), promptTokens, generated, finish, firstToken, end - start);
        }

        /** Frees the cache (a finished sequence has done so already); the sequence takes no more steps. */
        @Override
        public void close() {
            if (finish == null) {
                finish = "abort";
                end = System.nanoTime();
            }
            cache.close();
        }
    }

    private static int stopIndex(StringBuilder text, SamplingParams params, int from) {
        int best = -1;
        for (String s : params.stop()) {
            if (s.isEmpty()) {
                continue;
            }
            int i = text.indexOf(s, Math.max(0, from - s.length()));
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        return best;
    }

    /** Picks the next token: argmax at temperature 0, else top-k, then top-p, then a draw. */
    static int sample(float[] logits, SamplingParams params, Random random) {
        if (params.temperature() < 1e-6) {
            int best = 0;
            for (int i = 1; i < logits.length; i++) {
                if (logits[i] > logits[best]) {
                    best = i;
                }
            }
            return best;
        }
        int n = logits.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
        int keep = params.topK() > 0 ? Math.min(params.topK(), n) : n;
        double max = logits[order[0]] / params.temperature();
        double[] probs = new double[keep];
        double sum = 0;
        for (int i = 0; i < keep; i++) {
            probs[i] = Math.exp(logits[order[i]] / params.temperature() - max);
            sum += probs[i];
        }
        double cumulative = 0;
        int nucleus = keep;
        for (int i = 0; i < keep; i++) {
            probs[i] /= sum;
            cumulative += probs[i];
            if (cumulative >= params.topP()) {
                nucleus = i + 1;
                break;
            }
        }
        double mass = 0;
        for (int i = 0; i < nucleus; i++) {
            mass += probs[i];
        }
        double r = random.nextDouble() * mass;
        for (int i = 0; i < nucleus; i++) {
            r -= probs[i];
            if (r <= 0) {
                return order[i];
            }
        }
        return order[nucleus - 1];
    }
}
