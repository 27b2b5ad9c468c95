package dev.mlinfra.modelserver.service;

import dev.mlinfra.engine.generate.GenerationResult;
import dev.mlinfra.engine.generate.Generator;
import dev.mlinfra.engine.tokenizer.ByteTokenizer;
import dev.mlinfra.modelserver.api.ApiException;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Runs generations one at a time (the CPU is shared by all of them anyway), each on a lease of its
 * adapter from the {@link ModelRegistry}, so an adapter evicted or unloaded meanwhile stays usable
 * until the generation ends. A generation whose client went away stops at its next token, and a
 * request whose client left while it waited for its turn is not run at all.
 */
@ApplicationScoped
public class GenerationService {

    private static final Logger LOG = Logger.getLogger(GenerationService.class);

    private final ModelRegistry registry;
    /** Fair, so that waiting requests are served in arrival order. */
    private final ReentrantLock generationLock = new ReentrantLock(true);

    public GenerationService(ModelRegistry registry) {
        this.registry = registry;
    }

    /** The served name a request resolves to, or a 404. */
    public String servedName(String model) {
        try (ModelRegistry.Lease lease = acquire(model)) {
            return lease.target().name();
        }
    }

    /**
     * Generates; {@code onText} receives streamed text when given. {@code clientGone} is asked when
     * this request's turn comes and before each piece of text: once it answers true the generation
     * stops there, releasing its adapter and its turn, and {@link ClientGoneException} is thrown.
     */
    public GenerationResult generate(GenerationRequest request, Consumer<String> onText, BooleanSupplier clientGone) {
        generationLock.lock();
        try {
            if (clientGone.getAsBoolean()) {
                LOG.infof("skipped generation on %s (0 tokens): the client went away while it was queued",
                        request.model() == null ? registry.baseName() : request.model());
                throw new ClientGoneException(0);
            }
            // Leased only once this request's turn has come: queued requests do not pin evicted adapters.
            try (ModelRegistry.Lease lease = acquire(request.model())) {
                ModelRegistry.Target target = lease.target();
                try {
                    return generate(target, request, new WhileClientListens(onText, clientGone, target));
                } catch (ClientGoneException e) {
                    LOG.infof("stopped generation on %s after %d tokens (max_tokens %d): the client went away",
                            target.name(), e.tokens(), request.sampling().maxTokens());
                    throw e;
                }
            }
        } finally {
            generationLock.unlock();
        }
    }

    /**
     * The generator's text callback, called at most once per generated token: passes text on while
     * the client is there, else stops the generation by throwing (the generator closes its cache).
     */
    private static final class WhileClientListens implements Consumer<String> {
        private final Consumer<String> onText;
        private final BooleanSupplier clientGone;
        private final ByteTokenizer tokenizer;
        /** Tokens of the text generated so far. */
        private int tokens;

        WhileClientListens(Consumer<String> onText, BooleanSupplier clientGone, ModelRegistry.Target target) {
            this.onText = onText;
            this.clientGone = clientGone;
            this.tokenizer = target.base().tokenizer();
        }

        @Override
        public void accept(String text) {
            tokens += tokenizer.encode(text).length;
            if (clientGone.getAsBoolean()) {
                throw new ClientGoneException(tokens);
            }
            if (onText != null) {
                onText.accept(text);
            }
        }
    }

    private ModelRegistry.Lease acquire(String model) {
        ModelRegistry.Lease lease;
        try {
            lease = registry.acquire(model);
        } catch (IOException e) {
            throw new ApiException(500, "InternalServerError", "adapter of `" + model + "` cannot be read", "model");
        }
        if (lease == null) {
            throw ApiException.notFound("model", "The model `" + model + "` does not exist.");
        }
        return lease;
    }

    private static GenerationResult generate(ModelRegistry.Target target, GenerationRequest request,
            Consumer<String> onText) {
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
