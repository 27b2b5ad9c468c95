package dev.mlinfra.engine.generate;

import ai.djl.pytorch.jni.JniUtils;
import dev.mlinfra.engine.model.KvCache;
import dev.mlinfra.engine.model.LlamaModel;
import dev.mlinfra.engine.model.LoraAdapter;
import dev.mlinfra.engine.tokenizer.ByteTokenizer;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;

/** Autoregressive generation with a key/value cache (prefill once, then one token per step). */
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
     * becomes final (never a piece of a stop string, never half a UTF-8 character).
     */
    public GenerationResult generate(int[] prompt, LoraAdapter adapter, SamplingParams params, Consumer<String> onText) {
        int limit = model.config().maxPositionEmbeddings();
        if (prompt.length == 0) {
            throw new IllegalArgumentException("prompt must not be empty");
        }
        if (prompt.length >= limit) {
            throw new IllegalArgumentException("prompt has " + prompt.length + " tokens; the model's context is " + limit);
        }
        int maxTokens = Math.min(params.maxTokens(), limit - prompt.length);
        Random random = params.seed() == null ? new Random() : new Random(params.seed());
        int holdBack = params.stop().stream().mapToInt(String::length).max().orElse(1) - 1;
        boolean grad = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        long start = System.nanoTime();
        long firstToken = 0;
        StringBuilder text = new StringBuilder();
        int emitted = 0;
        int generated = 0;
        String finish = "length";
        boolean stoppedByString = false;
        ByteTokenizer.StreamDecoder decoder = tokenizer.streamDecoder();
        try (KvCache cache = new KvCache(model.config().numHiddenLayers())) {
            float[] logits = model.forwardCached(prompt, cache, adapter);
            while (generated < maxTokens) {
                int next = sample(logits, params, random);
                generated++;
                if (firstToken == 0) {
                    firstToken = System.nanoTime() - start;
                }
                if (endIds.contains(next)) {
                    finish = "stop";
                    break;
                }
                text.append(decoder.accept(next));
                int stopAt = stopIndex(text, params, Math.max(0, emitted - holdBack));
                if (stopAt >= 0) {
                    text.setLength(stopAt);
                    finish = "stop";
                    stoppedByString = true;
                    break;
                }
                if (onText != null && text.length() - holdBack > emitted) {
                    int upTo = text.length() - holdBack;
                    if (upTo > 0 && Character.isHighSurrogate(text.charAt(upTo - 1))) {
                        upTo--;
                    }
                    if (upTo > emitted) {
                        onText.accept(text.substring(emitted, upTo));
                        emitted = upTo;
                    }
                }
                if (generated < maxTokens) {
                    logits = model.forwardCached(new int[] {next}, cache, adapter);
                }
            }
            if (!stoppedByString) {
                text.append(decoder.finish());
            }
        } finally {
            JniUtils.setGradMode(grad);
        }
        if (onText != null && text.length() > emitted) {
            onText.accept(text.substring(emitted));
        }
        return new GenerationResult(text.toString(), prompt.length, generated, finish,
                firstToken, System.nanoTime() - start);
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
