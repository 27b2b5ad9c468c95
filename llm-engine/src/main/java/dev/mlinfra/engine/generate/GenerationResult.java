package dev.mlinfra.engine.generate;

/**
 * The outcome of one generation.
 *
 * @param text             generated text (stop string excluded)
 * @param promptTokens     tokens in the prompt
 * @param completionTokens tokens generated
 * @param finishReason     {@code stop} (end token or stop string) or {@code length}
 * @param firstTokenNanos  time from start to the first generated token
 * @param totalNanos       time of the whole generation
 */
public record GenerationResult(String text, int promptTokens, int completionTokens, String finishReason,
        long firstTokenNanos, long totalNanos) {

    /** Decode speed after the first token. */
    public double decodeTokensPerSecond() {
        long decode = totalNanos - firstTokenNanos;
        return completionTokens <= 1 || decode <= 0 ? 0 : (completionTokens - 1) / (decode / 1e9);
    }
}
