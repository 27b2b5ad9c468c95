package dev.mlinfra.modelserver.service;

import dev.mlinfra.engine.generate.GenerationResult;
import dev.mlinfra.engine.generate.Generator;
import dev.mlinfra.engine.tokenizer.ByteTokenizer;
import dev.mlinfra.modelserver.api.ApiException;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.util.function.Consumer;

/**
 * Runs generations one at a time (the CPU is shared by all of them anyway), so an adapter is never
 * evicted while a request uses it.
 */
@ApplicationScoped
public class GenerationService {

    private final ModelRegistry registry;

    public GenerationService(ModelRegistry registry) {
        this.registry = registry;
    }

    /** The served name a request resolves to, or a 404. */
    public String servedName(String model) {
        synchronized (registry) {
            try {
                ModelRegistry.Target target = registry.resolve(model);
                if (target == null) {
                    throw ApiException.notFound("model", "The model `" + model + "` does not exist.");
                }
                return target.name();
            } catch (IOException e) {
                throw new ApiException(500, "InternalServerError", "adapter of `" + model + "` cannot be read", "model");
            }
        }
    }

    /** Generates; {@code onText} receives streamed text when given. */
    public GenerationResult generate(GenerationRequest request, Consumer<String> onText) {
        synchronized (registry) {
            ModelRegistry.Target target;
            try {
                target = registry.resolve(request.model());
            } catch (IOException e) {
                throw new ApiException(500, "InternalServerError", "adapter of `" + request.model() + "` cannot be read",
                        "model");
            }
            if (target == null) {
                throw ApiException.notFound("model", "The model `" + request.model() + "` does not exist.");
            }
            ByteTokenizer tokenizer = target.base().tokenizer();
            int[] ids = tokenizer.encodeWithSpecials(request.prompt());
            int bos = tokenizer.specialId(ByteTokenizer.BEGIN_OF_TEXT);
            if (ids.length == 0 || ids[0] != bos) {
                int[] withBos = new int[ids.length + 1];
                withBos[0] = bos;
                System.arraycopy(ids, 0, withBos, 1, ids.length);
                ids = withBos;
            }
            int context = target.base().config().maxPositionEmbeddings();
            if (ids.length >= context) {
                throw ApiException.badRequest("prompt", "This model's maximum context length is " + context
                        + " tokens. However, your prompt has " + ids.length + " tokens.");
            }
            return new Generator(target.base().model(), tokenizer).generate(ids, target.adapter(), request.sampling(),
                    onText);
        }
    }
}
