package dev.mlinfra.modelserver.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Optional;

/** Configuration of the model server. */
@ConfigMapping(prefix = "mlinfra.model-server")
public interface ModelServerConfig {

    /** Base model: {@code scout}, {@code maverick} (seeded miniature bases) or a directory with config.json and model.safetensors. */
    @WithDefault("scout")
    String baseModel();

    /** Name under which the base model is served ({@code model} field); default {@code llama4-<type>-mini}. */
    Optional<String> servedModelName();

    /** Directory of the seeded base models; default {@code <data dir>/models}. */
    Optional<String> modelsDir();

    /** The platform's data directory (DJL native cache, base models); default {@code .mlinfra}. */
    Optional<String> dataDir();

    /** Directory where the native library is unpacked; default {@code <data dir>/djl}. */
    Optional<String> djlCacheDir();

    /** Unpinned LoRA adapters kept in memory at once (pinned ones do not count); the least recently used is evicted beyond it. */
    @WithDefault("4")
    int maxLoras();

    /**
     * PyTorch's compute threads (0: one per core). One by default: a decoding step of the miniature
     * models is hundreds of small products, for which waking a second thread costs more than it
     * saves (bench/engine/README.md), and the other cores stay with the HTTP layer.
     */
    @WithDefault("1")
    int threads();

    /** Tokens a completion generates when it gives no max_tokens (vLLM's default; a chat runs to its end or the context's). */
    @WithDefault("16")
    int defaultMaxTokens();

    /**
     * Requests decoded together in one continuous batch (vLLM's {@code max_num_seqs}); more wait.
     * A decoding step runs at most 8 rows per forward pass, so beyond 8 a step takes several passes.
     */
    @WithDefault("8")
    int maxNumSeqs();

    /** Requests that may wait for a place in the batch; one more is refused with 503 until one leaves. */
    @WithDefault("32")
    int maxWaitingRequests();
}
