package dev.mlinfra.inference.rest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlinfra.commons.error.ApiException;
import dev.mlinfra.commons.error.ErrorBody;
import dev.mlinfra.commons.error.ErrorCode;
import dev.mlinfra.commons.error.ErrorMappers;
import dev.mlinfra.commons.http.HttpErrors;
import dev.mlinfra.commons.http.RequestIds;
import dev.mlinfra.commons.http.SingleQueryValues;
import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.commons.identity.IdentityTokens;
import dev.mlinfra.inference.Deployment;
import dev.mlinfra.inference.config.InferenceConfig;
import dev.mlinfra.inference.service.Caller;
import dev.mlinfra.inference.service.InferenceRequest;
import dev.mlinfra.inference.service.InferenceService;
import dev.mlinfra.inference.service.ParamRefusal;
import dev.mlinfra.inference.service.InferenceService.Piece;
import dev.mlinfra.inference.service.InferenceService.Result;
import io.quarkus.vertx.core.runtime.context.VertxContextSafetyToggle;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.Cancellable;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * The routes whose answer is either one JSON document or a stream of server-sent events, decided
 * by the request body: the contract's {@code POST /v1/inference} (with {@code stream}, beyond the
 * contract) and the OpenAI-compatible {@code /v1/openai} route ({@code GET /models},
 * {@code POST /completions}, {@code POST /chat/completions}), which answers errors in OpenAI's
 * shape. A client that goes away cancels its stream, and with it the generation.
 */
@ApplicationScoped
public class InferenceRoutes {

    private static final Logger LOG = Logger.getLogger(InferenceRoutes.class);
    private static final int MAX_BODY = 1024 * 1024;
    static final String OPENAI = "/v1/openai";

    private final InferenceService inference;
    private final InferenceConfig config;
    private final ObjectMapper json;

    public InferenceRoutes(InferenceService inference, InferenceConfig config, ObjectMapper json) {
        this.inference = inference;
        this.config = config;
        this.json = json;
    }

    void register(@Observes Router router) {
        BodyHandler body = BodyHandler.create(false).setBodyLimit(MAX_BODY);
        // first, so that a failure of the body handler (a body over the limit) is answered in the route's shape
        router.post("/v1/inference").order(-11).handler(errorsInShape(false));
        router.post(OPENAI + "/*").order(-11).handler(errorsInShape(true));
        router.post("/v1/inference").order(-10).handler(body).handler(ctx -> safely(ctx, false, this::infer));
        // HEAD as GET without the body (Vert.x leaves it out), as on every other GET endpoint
        router.route(OPENAI + "/models").method(HttpMethod.GET).method(HttpMethod.HEAD).order(-10)
                .handler(ctx -> safely(ctx, true, this::models));
        router.route(OPENAI + "/models/:model").method(HttpMethod.GET).method(HttpMethod.HEAD).order(-10)
                .handler(ctx -> safely(ctx, true, this::model));
        router.post(OPENAI + "/completions").order(-10).handler(body)
                .handler(ctx -> safely(ctx, true, c -> openAi(c, "/v1/completions")));
        router.post(OPENAI + "/chat/completions").order(-10).handler(body)
                .handler(ctx -> safely(ctx, true, c -> openAi(c, "/v1/chat/completions")));
        // Any other method on these paths: 405 naming the one they take, or OPTIONS answered (the routes above end
        // every request of theirs).
        onlyMethod(router, "/v1/inference", "POST", false);
        onlyMethod(router, OPENAI + "/models", "GET, HEAD", true);
        onlyMethod(router, OPENAI + "/models/:model", "GET, HEAD", true);
        onlyMethod(router, OPENAI + "/completions", "POST", true);
        onlyMethod(router, OPENAI + "/chat/completions", "POST", true);
        // Any other path of the OpenAI-compatible API: a 404 in OpenAI's shape, which its clients read.
        router.route(OPENAI + "/*").order(-8).handler(ctx -> fail(ctx, true, new UnknownRoute(ctx)));
    }

    /**
     * Failures below the route (a body over {@link #MAX_BODY}) answered in the route's own shape, OpenAI's
     * on {@code /v1/openai}, which its clients read.
     */
    private io.vertx.core.Handler<RoutingContext> errorsInShape(boolean openAi) {
        HttpErrors.ErrorWriter writer = (ctx, code, message) -> fail(ctx, openAi, new ApiException(code,
                code == ErrorCode.PAYLOAD_TOO_LARGE ? "Request body is larger than the " + MAX_BODY / (1024 * 1024)
                        + " MiB this endpoint accepts; a prompt fills the model's context long before that" : message));
        return ctx -> {
            ctx.put(HttpErrors.ERROR_WRITER, writer);
            ctx.next();
        };
    }

    private void onlyMethod(Router router, String path, String allowed, boolean openAi) {
        router.route(path).order(-9).handler(ctx -> {
            if (!HttpErrors.answerOptions(ctx, allowed)) {
                fail(ctx, openAi, HttpErrors.methodNotAllowed(ctx, allowed));
            }
        });
    }

    private void safely(RoutingContext ctx, boolean openAi, java.util.function.Consumer<RoutingContext> route) {
        // Hibernate Reactive runs only on a request's own (duplicated) context, which the route is on.
        VertxContextSafetyToggle.setCurrentContextSafe(true);
        try {
            // these routes take no query parameter: one sent is refused, as on every endpoint, not ignored
            ApiException query = SingleQueryValues.noneTaken(ctx.request().query());
            if (query != null) {
                throw query;
            }
            // JSON, or server-sent events for a stream (errors before it are JSON too)
            HttpErrors.requireAcceptable(ctx, "application/json", "text/event-stream");
            route.accept(ctx);
        } catch (RuntimeException e) {
            fail(ctx, openAi, e);
        }
    }

    // ------------------------------------------------------------------ POST /v1/inference

    private void infer(RoutingContext ctx) {
        Identity caller = caller(ctx);
        InferenceRequest request = InferenceRequest.parse(body(ctx), config.maxContextTokens());
        if (!request.stream()) {
            untilClientLeaves(ctx, inference.infer(caller(ctx, caller), request).subscribe()
                    .with(r -> sendJson(ctx, 200, view(r)), e -> fail(ctx, false, e)));
            return;
        }
        HttpServerResponse response = ctx.response();
        Multi<Piece> pieces = inference.stream(caller(ctx, caller), request);
        streamEvents(ctx, false, pieces, piece -> piece.result() == null
                ? event("delta", Map.of("text", piece.text()))
                : event("done", view(piece.result())), response);
    }

    private Map<String, Object> view(Result r) {
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("tokens_generated", r.tokensGenerated());
        metadata.put("generation_time", r.generationTime());
        metadata.put("model_version", r.modelVersion());
        if (r.finishReason() != null) {
            metadata.put("finish_reason", r.finishReason());
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model_id", r.modelId());
        out.put("output", r.output());
        out.put("metadata", metadata);
        return out;
    }

    // ------------------------------------------------------------------ /v1/openai

    private void models(RoutingContext ctx) {
        Identity caller = caller(ctx);
        inference.answeringModels(caller.team()).subscribe().with(list -> {
            ObjectNode out = json.createObjectNode().put("object", "list");
            var data = out.putArray("data");
            for (Deployment d : list) {
                data.add(modelObject(d, caller));
            }
            sendJson(ctx, 200, out);
        }, e -> fail(ctx, true, e));
    }

    /** {@code GET /models/{model}}: one of the team's servable models, as the list shows it. */
    private void model(RoutingContext ctx) {
        Identity caller = caller(ctx);
        String id = ctx.pathParam("model");
        inference.answeringModels(caller.team()).subscribe().with(list -> {
            Deployment d = list.stream().filter(x -> x.modelId.equals(id)).findFirst().orElse(null);
            if (d == null) {
                fail(ctx, true, ApiException.notFound("Model '" + id + "' is not one of your team's servable models (GET "
                        + OPENAI + "/models lists them)"));
                return;
            }
            sendJson(ctx, 200, modelObject(d, caller));
        }, e -> fail(ctx, true, e));
    }

    private ObjectNode modelObject(Deployment d, Identity caller) {
        return json.createObjectNode().put("id", d.modelId).put("object", "model")
                // when the model was first deployed here: a redeploy (a new version, a restart) does not move it
                .put("created", d.createdAt.getEpochSecond())
                .put("owned_by", caller.team()).put("root", d.modelType).put("parent", (String) null)
                .put("version", d.version);
    }

    private void openAi(RoutingContext ctx, String path) {
        Identity caller = caller(ctx);
        JsonNode parsed = body(ctx);
        if (!(parsed instanceof ObjectNode body)) {
            throw ApiException.badRequest("The request body must be a JSON object");
        }
        JsonNode model = body.get("model");
        if (model == null || model.isNull() || model.isTextual() && model.asText().isBlank()) {
            throw new ParamRefusal("model", "Field 'model' is required: the id of one of your team's models (GET "
                    + OPENAI + "/models lists them)");
        }
        if (!model.isTextual()) {
            throw new ParamRefusal("model", "Field 'model' must be a string, the id of one of your team's models (GET "
                    + OPENAI + "/models lists them), got " + InferenceRequest.sent(model));
        }
        String modelId = model.asText();
        JsonNode streamField = body.get("stream");
        if (streamField != null && !streamField.isBoolean() && !streamField.isNull()) {
            // passed on as it is, a server could read "yes" as true and stream what is read as one answer
            throw new ParamRefusal("stream", "Field 'stream' must be true or false, got " + streamField);
        }
        boolean stream = streamField != null && streamField.asBoolean();
        Uni<InferenceService.Target> target = inference.target(caller(ctx, caller), modelId);
        if (!stream) {
            untilClientLeaves(ctx, target.flatMap(t -> inference.openAi(t, path, body))
                    .onFailure().transform(inference::toApi)
                    .subscribe().with(answer -> {
                        ((ObjectNode) answer).put("model", modelId);
                        sendJson(ctx, 200, answer);
                    }, e -> fail(ctx, true, e)));
            return;
        }
        Multi<JsonNode> chunks = Multi.createFrom().uni(target)
                .onItem().transformToMultiAndConcatenate(t -> inference.openAiStream(t, path, body))
                .onFailure().transform(inference::toApi);
        streamEvents(ctx, true, chunks, chunk -> {
            if (chunk instanceof ObjectNode o && o.has("model")) {
                o.put("model", modelId);
            }
            return "data: " + chunk + "\n\n";
        }, ctx.response());
    }

    // ------------------------------------------------------------------ plumbing

    /**
     * Streams {@code items} as server-sent events once the first one is there (so a failure before
     * it, such as an unknown model, is still a plain error response); cancelled when the client goes.
     */
    private <T> void streamEvents(RoutingContext ctx, boolean openAi, Multi<T> items, Function<T, String> format,
            HttpServerResponse response) {
        Cancellable subscription = items.subscribe().with(item -> {
            if (response.closed()) {
                return;
            }
            if (!response.headWritten()) {
                response.setChunked(true).setStatusCode(200)
                        .putHeader("content-type", "text/event-stream")
                        .putHeader("cache-control", "no-cache")
                        .putHeader("x-accel-buffering", "no");
            }
            response.write(format.apply(item));
        }, e -> {
            if (response.headWritten()) {
                LOG.warnf("A stream broke off: %s", e.getMessage());
                if (!response.ended() && !response.closed()) {
                    response.write(openAi ? "data: " + openAiError(ctx, e) + "\n\n" : event("error", contractError(ctx, e)));
                    response.end();
                }
            } else {
                fail(ctx, openAi, e);
            }
        }, () -> {
            if (response.closed() || response.ended()) {
                return;
            }
            if (!response.headWritten()) {
                response.setChunked(true).setStatusCode(200).putHeader("content-type", "text/event-stream");
            }
            response.end(openAi ? "data: [DONE]\n\n" : "");
        });
        untilClientLeaves(ctx, subscription);
    }

    /** A whole answer in the making is given up when its client goes away (and with it the generation). */
    private static void untilClientLeaves(RoutingContext ctx, Cancellable work) {
        ctx.response().closeHandler(v -> work.cancel());
    }

    private String event(String name, Object data) {
        try {
            return "event: " + name + "\ndata: " + json.writeValueAsString(data) + "\n\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private JsonNode body(RoutingContext ctx) {
        HttpErrors.requireJson(ctx);
        String text = ctx.body() == null ? null : ctx.body().asString();
        if (text == null || text.isBlank()) {
            throw ApiException.badRequest("The request body is empty; send a JSON object");
        }
        try {
            return json.readTree(text);
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest(ErrorMappers.describeJson(e));
        }
    }

    private static Identity caller(RoutingContext ctx) {
        Identity identity = ctx.get(IdentityTokens.CONTEXT_KEY);
        if (identity == null) {
            throw ApiException.unauthorized("No verified caller for this request");
        }
        return identity;
    }

    /** The caller as a peer asked on its behalf sees it: its team, identity token and request id. */
    private static Caller caller(RoutingContext ctx, Identity identity) {
        return new Caller(identity.team(), ctx.request().getHeader(IdentityTokens.HEADER), ctx.get(RequestIds.KEY));
    }

    private void sendJson(RoutingContext ctx, int status, Object body) {
        if (ctx.response().ended() || ctx.response().closed()) {
            return;
        }
        try {
            ctx.response().setStatusCode(status).putHeader("content-type", "application/json")
                    .end(json.writeValueAsString(body));
        } catch (JsonProcessingException e) {
            fail(ctx, false, e);
        }
    }

    private void fail(RoutingContext ctx, boolean openAi, Throwable e) {
        HttpServerResponse response = ctx.response();
        if (response.ended() || response.closed()) {
            return;
        }
        ApiException api = api(ctx, e);
        if (api.retryAfterSeconds() != null) {
            response.putHeader("Retry-After", Integer.toString(api.retryAfterSeconds()));
        }
        if (openAi) {
            sendJson(ctx, api.code().status(), openAiError(ctx, e));
        } else {
            sendJson(ctx, api.code().status(), contractError(ctx, e));
        }
    }

    private Object contractError(RoutingContext ctx, Throwable e) {
        ApiException api = api(ctx, e);
        return json.valueToTree(ErrorBody.of(api.code(), api.getMessage()));
    }

    /** OpenAI's error object: {@code {"error": {"message", "type", "param", "code"}}}. */
    private ObjectNode openAiError(RoutingContext ctx, Throwable e) {
        ApiException api = api(ctx, e);
        ObjectNode root = json.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", api.getMessage());
        int status = api.code().status();
        error.put("type", status >= 500 ? "server_error" : "invalid_request_error");
        if (e instanceof ParamRefusal p) {
            error.put("param", p.param());
        } else {
            error.putNull("param");
        }
        error.put("code", e instanceof UnknownRoute ? "unknown_url" : switch (api.code()) {
            case NOT_FOUND -> "model_not_found";
            case CONFLICT -> "model_not_servable";
            case SERVICE_UNAVAILABLE -> "model_not_ready";
            case BAD_GATEWAY -> "backend_error";
            default -> api.code().code();
        });
        return root;
    }

    /** Any failure as an ApiException; an unexpected one is logged with the request id, which the answer quotes. */
    private ApiException api(RoutingContext ctx, Throwable e) {
        if (e instanceof ApiException a) {
            if (a.code() == ErrorCode.BAD_GATEWAY) {
                String id = ctx.get(RequestIds.KEY);
                LOG.warnf("Request %s: %s", id, a instanceof InferenceService.BackendFailure f
                        ? "the model server failed: " + f.detail() : a.getMessage());
                return ApiException.badGateway(a.getMessage() + " (request id " + id + ")");
            }
            return a;
        }
        String id = ctx.get(RequestIds.KEY);
        LOG.errorf(e, "Request %s failed", id);
        return new ApiException(ErrorCode.INTERNAL_ERROR, "Internal error; quote request id " + id + " when reporting it");
    }

    /** A path under /v1/openai that the OpenAI-compatible API does not have. */
    static final class UnknownRoute extends ApiException {
        UnknownRoute(RoutingContext ctx) {
            super(ErrorCode.NOT_FOUND, "No endpoint " + ctx.request().method() + " " + ctx.normalizedPath() + " in the"
                    + " OpenAI-compatible API; it has GET " + OPENAI + "/models, GET " + OPENAI + "/models/{model}, POST "
                    + OPENAI + "/completions and POST " + OPENAI + "/chat/completions");
        }
    }

}
