package dev.mlinfra.modelserver.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlinfra.engine.generate.GenerationResult;
import dev.mlinfra.modelserver.config.ModelServerConfig;
import dev.mlinfra.modelserver.service.BatchScheduler;
import dev.mlinfra.modelserver.service.ClientGoneException;
import dev.mlinfra.modelserver.service.GenerationRequest;
import dev.mlinfra.modelserver.service.GenerationService;
import dev.mlinfra.modelserver.service.ModelRegistry;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.time.Instant;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The subset of the vLLM/OpenAI server API that mlinfra's inference service uses:
 * completions and chat completions (plain or streamed as server-sent events), the model list,
 * dynamic LoRA adapter loading, health and version. Requests wait for their generation on worker
 * threads, never on the event loop; the generation itself runs in the continuous batch of the
 * {@link BatchScheduler}.
 */
@ApplicationScoped
public class OpenAiRoutes {

    private static final Logger LOG = Logger.getLogger(OpenAiRoutes.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_BODY = 4L * 1024 * 1024;
    /** Header of the health answer with this server's process id (inference-service's local backend reads it). */
    public static final String PROCESS_ID_HEADER = "x-mlinfra-pid";
    private static final String PROCESS_ID = Long.toString(ProcessHandle.current().pid());
    /** What a 503 (queue full) asks clients to wait: requests leave the batch within seconds. */
    private static final String RETRY_AFTER_SECONDS = "1";

    private final GenerationService generation;
    private final ModelRegistry registry;
    private final ModelServerConfig config;
    /** The body of {@code GET /version}; the version never changes while the server runs. */
    private final String versionJson;

    public OpenAiRoutes(GenerationService generation, ModelRegistry registry, ModelServerConfig config,
            @ConfigProperty(name = "quarkus.application.version") String version) {
        this.generation = generation;
        this.registry = registry;
        this.config = config;
        this.versionJson = JSON.createObjectNode().put("version", version).toString();
    }

    void routes(@Observes Router router) {
        BodyHandler body = BodyHandler.create().setBodyLimit(MAX_BODY).setHandleFileUploads(false);
        router.post("/v1/completions").handler(body).blockingHandler(ctx -> handle(ctx, () -> complete(ctx, false)), false);
        router.post("/v1/chat/completions").handler(body).blockingHandler(ctx -> handle(ctx, () -> complete(ctx, true)), false);
        router.get("/v1/models").blockingHandler(ctx -> handle(ctx, () -> models(ctx)), false);
        router.post("/v1/load_lora_adapter").handler(body).blockingHandler(ctx -> handle(ctx, () -> loadAdapter(ctx)), false);
        router.post("/v1/unload_lora_adapter").handler(body).blockingHandler(ctx -> handle(ctx, () -> unloadAdapter(ctx)), false);
        // The process id lets a supervisor tell this server from another process that answers on the same port.
        router.get("/health").handler(ctx -> ctx.response().putHeader(PROCESS_ID_HEADER, PROCESS_ID)
                .setStatusCode(registry.base() == null ? 503 : 200).end());
        // vLLM answers its own version here; ours is the build's (the pom's), so the platform status shows which one runs.
        router.get("/version").handler(ctx -> ctx.response().putHeader("content-type", "application/json").end(versionJson));
    }

    private void handle(RoutingContext ctx, Runnable action) {
        try {
            action.run();
        } catch (ClientGoneException e) {
            // Nobody is left to answer; the batch scheduler has logged the stop.
        } catch (ApiException e) {
            error(ctx, e);
        } catch (IllegalArgumentException e) {
            error(ctx, ApiException.badRequest(null, e.getMessage()));
        } catch (RuntimeException e) {
            String requestId = UUID.randomUUID().toString();
            LOG.errorf(e, "request %s failed", requestId);
            error(ctx, new ApiException(500, "InternalServerError", "internal error (request id " + requestId + ")", null));
        }
    }

    private static void error(RoutingContext ctx, ApiException e) {
        HttpServerResponse response = ctx.response();
        if (response.headWritten()) {
            // Mid-stream failure: report it as a final event, as vLLM does.
            if (!response.ended()) {
                response.write("data: " + errorJson(e) + "\n\n");
                response.end();
            }
            return;
        }
        if (e.status() == 503) {
            response.putHeader("retry-after", RETRY_AFTER_SECONDS);
        }
        response.setStatusCode(e.status()).putHeader("content-type", "application/json").end(errorJson(e));
    }

    private static String errorJson(ApiException e) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", e.getMessage());
        error.put("type", e.type());
        if (e.param() == null) {
            error.putNull("param");
        } else {
            error.put("param", e.param());
        }
        error.put("code", e.status());
        return root.toString();
    }

    private void complete(RoutingContext ctx, boolean chat) {
        JsonNode body = RequestParser.body(ctx.body().asString());
        GenerationRequest request = chat ? RequestParser.chat(body, generation.context())
                : RequestParser.completion(body, config.defaultMaxTokens(), generation.context());
        String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
        long created = Instant.now().getEpochSecond();
        String model = generation.servedName(request.model());
        // Closed once the client hangs up (connection closed, or its HTTP/2 stream reset): stops the generation.
        HttpServerResponse response = ctx.response();
        // Queued before anything is written, so that a full queue answers 503 to streams too.
        BatchScheduler.Job job = generation.submit(request, response::closed);
        if (!request.stream()) {
            GenerationResult r = job.await(null);
            ObjectNode out = envelope(id, chat ? "chat.completion" : "text_completion", created, model);
            ObjectNode choice = out.putArray("choices").addObject();
            choice.put("index", 0);
            if (chat) {
                ObjectNode message = choice.putObject("message");
                message.put("role", "assistant");
                message.put("content", r.text());
            } else {
                choice.put("text", r.text());
            }
            choice.putNull("logprobs");
            choice.put("finish_reason", r.finishReason());
            out.set("usage", usage(r));
            response.putHeader("content-type", "application/json").end(out.toString());
            return;
        }
        response.setChunked(true)
                .putHeader("content-type", "text/event-stream")
                .putHeader("cache-control", "no-cache");
        String object = chat ? "chat.completion.chunk" : "text_completion";
        if (chat) {
            ObjectNode first = envelope(id, object, created, model);
            ObjectNode c = first.putArray("choices").addObject();
            c.put("index", 0);
            c.putObject("delta").put("role", "assistant").put("content", "");
            c.putNull("logprobs");
            c.putNull("finish_reason");
            send(response, first);
        }
        GenerationResult r = job.await(text -> {
            ObjectNode chunk = envelope(id, object, created, model);
            ObjectNode c = chunk.putArray("choices").addObject();
            c.put("index", 0);
            if (chat) {
                c.putObject("delta").put("content", text);
            } else {
                c.put("text", text);
            }
            c.putNull("logprobs");
            c.putNull("finish_reason");
            send(response, chunk);
        });
        ObjectNode last = envelope(id, object, created, model);
        ObjectNode c = last.putArray("choices").addObject();
        c.put("index", 0);
        if (chat) {
            c.putObject("delta");
        } else {
            c.put("text", "");
        }
        c.putNull("logprobs");
        c.put("finish_reason", r.finishReason());
        send(response, last);
        if (request.includeUsage()) {
            ObjectNode usage = envelope(id, object, created, model);
            usage.putArray("choices");
            usage.set("usage", usage(r));
            send(response, usage);
        }
        response.end("data: [DONE]\n\n");
    }

    private static void send(HttpServerResponse response, ObjectNode chunk) {
        response.write("data: " + chunk + "\n\n");
    }

    private static ObjectNode envelope(String id, String object, long created, String model) {
        ObjectNode out = JSON.createObjectNode();
        out.put("id", id);
        out.put("object", object);
        out.put("created", created);
        out.put("model", model);
        return out;
    }

    private static ObjectNode usage(GenerationResult r) {
        ObjectNode u = JSON.createObjectNode();
        u.put("prompt_tokens", r.promptTokens());
        u.put("completion_tokens", r.completionTokens());
        u.put("total_tokens", r.promptTokens() + r.completionTokens());
        return u;
    }

    private void models(RoutingContext ctx) {
        ObjectNode out = JSON.createObjectNode();
        out.put("object", "list");
        ArrayNode data = out.putArray("data");
        ObjectNode base = data.addObject();
        base.put("id", registry.baseName());
        base.put("object", "model");
        base.put("created", Instant.now().getEpochSecond());
        base.put("owned_by", "mlinfra");
        base.put("root", registry.baseName());
        base.putNull("parent");
        base.put("max_model_len", registry.base().config().maxPositionEmbeddings());
        for (ModelRegistry.AdapterState a : registry.adapters()) {
            ModelRegistry.Registration r = a.registration();
            ObjectNode m = data.addObject();
            m.put("id", r.name());
            m.put("object", "model");
            m.put("created", r.created());
            m.put("owned_by", "mlinfra");
            m.put("root", r.path());
            m.put("parent", registry.baseName());
            m.put("max_model_len", registry.base().config().maxPositionEmbeddings());
            m.put("resident", a.resident());
            m.put("pinned", a.pinned());
        }
        ctx.response().putHeader("content-type", "application/json").end(out.toString());
    }

    private void loadAdapter(RoutingContext ctx) {
        JsonNode body = RequestParser.body(ctx.body().asString());
        String name = RequestParser.requiredText(body, "lora_name");
        String path = RequestParser.requiredText(body, "lora_path");
        // model-server's extension (vLLM ignores it): held in memory outside the LRU
        boolean pinned = RequestParser.bool(body, "pinned", false);
        boolean added;
        try {
            added = registry.load(name, path, pinned);
        } catch (IllegalStateException e) {
            throw ApiException.badRequest("lora_name", e.getMessage());
        } catch (IOException | IllegalArgumentException e) {
            throw ApiException.badRequest("lora_path", "cannot load LoRA adapter from " + path + ": " + e.getMessage());
        }
        ctx.response().putHeader("content-type", "text/plain").end(added
                ? "Success: LoRA adapter '" + name + "' added successfully."
                : "Success: LoRA adapter '" + name + "' is already loaded; pinned: " + pinned + ".");
    }

    private void unloadAdapter(RoutingContext ctx) {
        JsonNode body = RequestParser.body(ctx.body().asString());
        String name = RequestParser.requiredText(body, "lora_name");
        if (!registry.unload(name)) {
            throw ApiException.notFound("lora_name", "The lora adapter '" + name + "' cannot be found.");
        }
        ctx.response().putHeader("content-type", "text/plain")
                .end("Success: LoRA adapter '" + name + "' removed successfully.");
    }
}
