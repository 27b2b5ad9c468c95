package dev.mlinfra.inference.backend;

import dev.mlinfra.inference.config.InferenceConfig;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.URI;
import java.util.List;
import java.util.Optional;
import java.util.function.BiConsumer;

/**
 * Servers that run elsewhere, by URL per model type ({@code mlinfra.inference.openai.urls.<type>}):
 * any vLLM/OpenAI-compatible server with dynamic LoRA loading (vLLM started with
 * {@code --enable-lora} and {@code VLLM_ALLOW_RUNTIME_LORA_UPDATING=True}), or a model-server run by hand.
 * Adapters are loaded by their object-store location, which the server must be able to read.
 */
@ApplicationScoped
@Identifier(OpenAiServingBackend.NAME)
public class OpenAiServingBackend implements ServingBackend {

    public static final String NAME = "openai";

    private final InferenceConfig.OpenAi config;

    public OpenAiServingBackend(InferenceConfig config) {
        this.config = config.openai();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Optional<URI> server(String modelType) {
        return Optional.ofNullable(config.urls().get(modelType)).map(URI::create);
    }

    @Override
    public Optional<String> unservable(String modelType) {
        return config.urls().containsKey(modelType) ? Optional.empty()
                : Optional.of("no server is configured for " + modelType + " models: set mlinfra.inference.openai.urls."
                        + modelType + " to the URL of a vLLM/OpenAI-compatible server of that base model");
    }

    @Override
    public void onReady(BiConsumer<String, URI> listener) {
        // its servers are always taken to be up: adapters are loaded when a model is deployed, and
        // again when a server answers that it does not know one
    }

    @Override
    public List<ServerStatus> servers() {
        return config.urls().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
                .map(e -> new ServerStatus(e.getKey(), e.getValue(), "configured", null, 0, null)).toList();
    }
}
