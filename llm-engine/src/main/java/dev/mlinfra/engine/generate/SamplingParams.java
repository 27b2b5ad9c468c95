package dev.mlinfra.engine.generate;

import java.util.List;

/**
 * How to pick tokens.
 *
 * @param temperature 0 for greedy decoding, else the softmax temperature
 * @param topP        nucleus sampling mass in (0, 1]
 * @param topK        keep the k most likely tokens (0 or -1: all)
 * @param maxTokens   tokens to generate at most
 * @param stop        strings that end generation (not included in the output)
 * @param seed        sampling seed (null: random)
 */
public record SamplingParams(double temperature, double topP, int topK, int maxTokens, List<String> stop, Long seed) {

    public SamplingParams {
        if (temperature < 0) {
            throw new IllegalArgumentException("temperature must be >= 0");
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1]");
        }
        if (topK < -1) {
            throw new IllegalArgumentException("top_k must be -1 (disabled) or a positive number");
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("max_tokens must be at least 1");
        }
        stop = stop == null ? List.of() : List.copyOf(stop);
    }

    /** Greedy decoding of up to {@code maxTokens} tokens. */
    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(0, 1, -1, maxTokens, List.of(), null);
    }
}
