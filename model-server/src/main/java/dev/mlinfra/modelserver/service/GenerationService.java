package dev.mlinfra.modelserver.service;

import dev.mlinfra.engine.tokenizer.ByteTokenizer;
import dev.mlinfra.modelserver.api.ApiException;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.util.function.BooleanSupplier;

/**
 * Validates and tokenizes requests and hands them to the {@link BatchScheduler}, which decodes all
 * running requests together; each runs on a lease of its adapter from the {@link ModelRegistry},
 * so an adapter evicted or unloaded meanwhile stays usable until the generation ends.
 */
@ApplicationScoped
public class GenerationService {

    private final ModelRegistry registry;
    private final BatchScheduler scheduler;

    public GenerationService(ModelRegistry registry, BatchScheduler scheduler) {
        this.registry = registry;
        this.scheduler = scheduler;
    }

    /** The base model's context: the most tokens a prompt and its completion take together. */
    public int context() {
        return registry.base().config().maxPositionEmbeddings();
    }

    /** The served name a request resolves to, or a 404. */
    public String servedName(String model) {
        try (ModelRegistry.Lease lease = scheduler.lease(model)) {
            return lease.target().name();
        }
    }

    /**
     * Queues a request: a 400 when its prompt does not fit the context, a 503 when the queue is
     * full. {@code clientGone} is asked when the request's turn comes and before each decoding
     * step: once it answers true the generation stops there and {@link BatchScheduler.Job#await}
     * throws {@link ClientGoneException}.
     */
    public BatchScheduler.Job submit(GenerationRequest request, BooleanSupplier clientGone) {
        return scheduler.submit(request, promptIds(request), clientGone);
    }

    private int[] promptIds(GenerationRequest request) {
        ByteTokenizer tokenizer = registry.base().tokenizer();
        int[] ids = tokenizer.encodeWithSpecials(request.prompt());
        int bos = tokenizer.specialId(ByteTokenizer.BEGIN_OF_TEXT);
        if (ids.length == 0 || ids[0] != bos) {
            int[] withBos = new int[ids.length + 1];
            withBos[0] = bos;
            System.arraycopy(ids, 0, withBos, 1, ids.length);
            ids = withBos;
        }
        int context = context();
        if (ids.length >= context) {
            throw ApiException.badRequest(request.promptField(), "This model's maximum context length is " + context
                    + " tokens. However, your prompt has " + ids.length + " tokens.");
        }
        return ids;
    }
}
