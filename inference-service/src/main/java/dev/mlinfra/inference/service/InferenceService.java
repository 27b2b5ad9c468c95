package dev.mlinfra.inference.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlinfra.commons.error.ApiException;
import dev.mlinfra.commons.error.ErrorCode;
import dev.mlinfra.inference.Deployment;
import dev.mlinfra.inference.DeploymentState;
import dev.mlinfra.inference.ServableVersion;
import dev.mlinfra.inference.backend.BackendException;
import dev.mlinfra.inference.backend.OpenAiProtocol;
import dev.mlinfra.inference.client.Registry;
import dev.mlinfra.inference.config.InferenceConfig;
import dev.mlinfra.inference.service.InferenceMetrics.Outcome;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Inference on a team's model: the model's ready deployment, the input rendered with the prompt
 * its version was trained with, and a completion from the server of its model type. Failures are
 * sorted for the caller: no such model (404), nothing servable (409), not ready yet (503 with
 * Retry-After), the server failed (502). A server that answers that it does not know the adapter
 * (it restarted) gets it loaded again and the request once more: nothing was generated yet.
 */
@ApplicationScoped
public class InferenceService {

    private static final Logger LOG = Logger.getLogger(InferenceService.class);

    private final DeploymentService deployments;
    private final Registry registry;
    private final OpenAiProtocol protocol;
    private final InferenceMetrics metrics;
    private final InferenceConfig config;
    private final ObjectMapper json;
    /** How long a server that did not say its context is left before it is asked again. */
    private static final Duration CONTEXT_RETRY = Duration.ofSeconds(30);

    /** Per server, its base model's context in tokens as its {@code /v1/models} says it (0: it does not say). */
    private final Map<URI, Integer> contexts = new ConcurrentHashMap<>();
    /** Per server, when its context was last asked for. */
    private final Map<URI, Long> contextAsked = new ConcurrentHashMap<>();

    public InferenceService(DeploymentService deployments, Registry registry, OpenAiProtocol protocol,
            InferenceMetrics metrics, InferenceConfig config, ObjectMapper json) {
        this.deployments = deployments;
        this.registry = registry;
        this.protocol = protocol;
        this.metrics = metrics;
        this.config = config;
        this.json = json;
    }

    /** A model's ready deployment and the server that serves it. */
    public record Target(Deployment deployment, URI server) {
    }

    /** What a generation produced. */
    public record Result(String modelId, String output, int tokensGenerated, double generationTime, String modelVersion,
            String finishReason) {
    }

    /** A piece of a streamed generation: text, or (last) the result with its metadata. */
    public record Piece(String text, Result result) {
    }

    /** The model's ready deployment, or the ApiException that says why it cannot answer now. */
    public Uni<Target> target(Caller caller, String modelId) {
        return deployments.servable(caller.team(), modelId).flatMap(d -> {
            if (d == null || d.state == DeploymentState.REMOVED) {
                return registeredMomentsAgo(caller, modelId, d);
            }
            return Uni.createFrom().item(ready(modelId, d));
        });
    }

    private Target ready(String modelId, Deployment d) {
        return switch (d.state) {
            case REMOVED -> throw ApiException.conflict("Model '" + modelId + "' cannot serve: " + d.reason);
            case FAILED -> throw notDeployed(modelId, d.version, d.reason);
            case DEPLOYING -> {
                Deployment meanwhile = d.answering();
                if (meanwhile == null) {
                    throw ApiException.unavailable("Model '" + modelId + "' version " + d.version
                            + " is being deployed; retry in a few seconds", config.retryAfterSeconds());
                }
                yield onServer(meanwhile);
            }
            case READY -> onServer(d);
        };
    }

    private Target onServer(Deployment d) {
        return new Target(d, deployments.backend().server(d.modelType).orElseThrow(() -> ApiException.unavailable(
                "The " + d.modelType + " model server is starting; retry in a few seconds", config.retryAfterSeconds())));
    }

    /**
     * A model with no deployment here (or one taken out of service) that the registry may have
     * registered, or brought back, a moment ago: its event is on its way (the registry publishes it
     * after its commit), so the registry is asked. If it shows the model in a stage that serves, the
     * deployment is about to start: 503 with Retry-After, not a 404 (or 409) that a script would take
     * as final. Otherwise, or when the registry cannot say, what this service knows answers.
     */
    private Uni<Target> registeredMomentsAgo(Caller caller, String modelId, Deployment known) {
        return registry.model(caller, modelId).map(shown -> {
            if (shown != null && !ServableVersion.ARCHIVED.equals(shown.stage())) {
                LOG.infof("Model %s/%s is registered (version %s, %s) and not yet deployed here; asked to retry",
                        caller.team(), modelId, shown.version(), shown.stage());
                throw ApiException.unavailable("Model '" + modelId + "' version " + shown.version() + " (" + shown.stage()
                        + ") was registered or changed moments ago and is not deployed yet; retry in a few seconds",
                        config.retryAfterSeconds());
            }
            if (known == null) {
                if (shown != null) {
                    // registered straight into archived a moment ago: its events have not told this service yet
                    throw ApiException.conflict("Model '" + modelId + "' cannot serve: " + DeploymentService.allArchived(modelId));
                }
                throw ApiException.notFound("Model '" + modelId + "' not found: no model of that id is registered for your team");
            }
            return ready(modelId, known);
        });
    }

    /** The team's models that answer now, each as it answers (the version that answers while a new one deploys). */
    public Uni<java.util.List<Deployment>> answeringModels(String team) {
        return deployments.answering(team);
    }

    /**
     * The target, once {@code max_tokens} is known to fit its model's context: the server's
     * {@code max_model_len}, learned in the background at the first request to a server and
     * remembered. Until it is known, or where a server does not say it, the server's own check answers.
     */
    private Target fitting(Target t, InferenceRequest request) {
        Integer context = contexts.get(t.server());
        if (context == null) {
            learnContext(t.server());
        } else if (context > 0 && request.parameters().maxTokens() > context) {
            throw ApiException.badRequest("Field 'parameters.max_tokens' must be between 1 and " + context + ", the context"
                    + " of model '" + request.modelId() + "' (prompt and answer in tokens), got "
                    + request.parameters().maxTokens());
        }
        return t;
    }

    /** Asks a server for its context, once at a time and at most every {@link #CONTEXT_RETRY} while it does not answer. */
    private void learnContext(URI server) {
        long now = System.nanoTime();
        boolean[] mine = {false};
        contextAsked.compute(server, (s, last) -> {
            mine[0] = last == null || now - last > CONTEXT_RETRY.toNanos();
            return mine[0] ? now : last;
        });
        if (!mine[0]) {
            return;
        }
        protocol.modelsOnce(server).subscribe().with(models -> {
            Integer context = context(models);
            contexts.put(server, context == null ? 0 : context);
        }, e -> {
            if (BackendException.refusal(e)) {
                contexts.put(server, 0); // it answered, without a list of models: its own checks answer
            } else {
                LOG.debugf("Could not ask %s for its context: %s", server, e.getMessage());
            }
        });
    }

    /** The base model's {@code max_model_len} in a server's {@code /v1/models} (the entry without a parent), or null. */
    static Integer context(JsonNode models) {
        for (JsonNode m : models.path("data")) {
            if (!m.hasNonNull("parent") && m.path("max_model_len").canConvertToInt() && m.path("max_model_len").isIntegralNumber()) {
                return m.get("max_model_len").asInt();
            }
        }
        return null;
    }

    /** {@code POST /v1/inference}. */
    public Uni<Result> infer(Caller caller, InferenceRequest request) {
        long started = System.nanoTime();
        return target(caller, request.modelId()).map(t -> fitting(t, request)).flatMap(t -> {
            ObjectNode body = completion(t, request, false);
            return withAdapter(t, () -> protocol.generate(t.server(), "/v1/completions", body))
                    .map(answer -> {
                        JsonNode choice = answer.path("choices").path(0);
                        int tokens = answer.path("usage").path("completion_tokens").asInt();
                        Result r = new Result(request.modelId(), choice.path("text").asText(), tokens, seconds(started),
                                t.deployment().version, choice.path("finish_reason").asText(null));
                        metrics.tokens(t.deployment().modelType, deployments.backend().name(), tokens);
                        return r;
                    })
                    .onItemOrFailure().invoke((r, e) -> metrics.request(t.deployment().modelType, deployments.backend().name(),
                            outcome(e), Duration.ofNanos(System.nanoTime() - started)))
                    .onCancellation().invoke(() -> cancelled(t, started));
        }).onFailure().transform(this::toApi);
    }

    /** {@code POST /v1/inference} with {@code stream: true}: text as it is generated, then the result. */
    public Multi<Piece> stream(Caller caller, InferenceRequest request) {
        long started = System.nanoTime();
        return Multi.createFrom().uni(target(caller, request.modelId()).map(t -> fitting(t, request)))
                .onItem().transformToMultiAndConcatenate(t -> {
            ObjectNode body = completion(t, request, true);
            StringBuilder output = new StringBuilder();
            AtomicInteger tokens = new AtomicInteger();
            AtomicLong first = new AtomicLong();
            AtomicBoolean ended = new AtomicBoolean();
            String[] finish = {null};
            String type = t.deployment().modelType;
            String backend = deployments.backend().name();
            Multi<Piece> text = streamWithAdapter(t, body).onItem().transformToIterable(chunk -> {
                if (chunk.has("usage") && chunk.get("usage").isObject()) {
                    tokens.set(chunk.get("usage").path("completion_tokens").asInt());
                }
                JsonNode choice = chunk.path("choices").path(0);
                if (choice.hasNonNull("finish_reason")) {
                    finish[0] = choice.get("finish_reason").asText();
                }
                String delta = choice.path("text").asText("");
                if (delta.isEmpty()) {
                    return java.util.List.<Piece>of();
                }
                if (first.compareAndSet(0, System.nanoTime())) {
                    metrics.firstToken(type, backend, Duration.ofNanos(first.get() - started));
                }
                output.append(delta);
                return java.util.List.of(new Piece(delta, null));
            });
            Multi<Piece> last = Multi.createFrom().item(() -> {
                ended.set(true);
                metrics.tokens(type, backend, tokens.get());
                metrics.request(type, backend, Outcome.OK, Duration.ofNanos(System.nanoTime() - started));
                return new Piece(null, new Result(request.modelId(), output.toString(), tokens.get(), seconds(started),
                        t.deployment().version, finish[0]));
            });
            return Multi.createBy().concatenating().streams(text, last)
                    .onFailure().invoke(e -> metrics.request(type, backend, outcome(e), Duration.ofNanos(System.nanoTime() - started)))
                    .onCancellation().invoke(() -> {
                        if (!ended.get()) {
                            LOG.infof("The client of a stream from %s went away; the generation is stopped", t.deployment().servedName);
                            metrics.request(type, backend, Outcome.CANCELLED, Duration.ofNanos(System.nanoTime() - started));
                        }
                    });
        }).onFailure().transform(this::toApi);
    }

    /** A request of the OpenAI-compatible route for a team's model, passed to its server under the adapter's name. */
    public Uni<JsonNode> openAi(Target t, String path, ObjectNode body) {
        long started = System.nanoTime();
        body.put("model", t.deployment().servedName);
        return withAdapter(t, () -> protocol.generate(t.server(), path, body))
                .invoke(answer -> metrics.tokens(t.deployment().modelType, deployments.backend().name(),
                        answer.path("usage").path("completion_tokens").asLong()))
                .onItemOrFailure().invoke((r, e) -> metrics.request(t.deployment().modelType, deployments.backend().name(),
                        outcome(e), Duration.ofNanos(System.nanoTime() - started)))
                .onCancellation().invoke(() -> cancelled(t, started));
    }

    /** A generation whose client went away before its answer: the call to the server was reset, which stops it there. */
    private void cancelled(Target t, long started) {
        LOG.infof("The client of a generation from %s went away; the generation is stopped", t.deployment().servedName);
        metrics.request(t.deployment().modelType, deployments.backend().name(), Outcome.CANCELLED,
                Duration.ofNanos(System.nanoTime() - started));
    }

    /** The streamed variant: the server's chunks as they come. */
    public Multi<JsonNode> openAiStream(Target t, String path, ObjectNode body) {
        long started = System.nanoTime();
        body.put("model", t.deployment().servedName);
        AtomicBoolean first = new AtomicBoolean(true);
        String type = t.deployment().modelType;
        String backend = deployments.backend().name();
        return streamWithAdapter(t, path, body)
                .invoke(chunk -> {
                    if (first.getAndSet(false)) {
                        metrics.firstToken(type, backend, Duration.ofNanos(System.nanoTime() - started));
                    }
                    if (chunk.path("usage").isObject()) {
                        metrics.tokens(type, backend, chunk.path("usage").path("completion_tokens").asLong());
                    }
                })
                .onCompletion().invoke(() -> metrics.request(type, backend, Outcome.OK, Duration.ofNanos(System.nanoTime() - started)))
                .onFailure().invoke(e -> metrics.request(type, backend, outcome(e), Duration.ofNanos(System.nanoTime() - started)))
                .onCancellation().invoke(() -> metrics.request(type, backend, Outcome.CANCELLED, Duration.ofNanos(System.nanoTime() - started)));
    }

    private ObjectNode completion(Target t, InferenceRequest request, boolean stream) {
        PromptTemplate template;
        try {
            template = PromptTemplate.of(t.deployment().promptTemplate);
        } catch (IllegalArgumentException e) {
            throw ApiException.conflict("Model '" + request.modelId() + "' cannot serve: its prompt template " + e.getMessage());
        }
        ObjectNode body = json.createObjectNode();
        body.put("model", t.deployment().servedName);
        body.put("prompt", template.render(request.input()));
        body.put("max_tokens", request.parameters().maxTokens());
        body.put("temperature", request.parameters().temperature());
        body.put("top_p", request.parameters().topP());
        body.put("top_k", request.parameters().topK());
        if (request.parameters().seed() != null) {
            body.put("seed", request.parameters().seed());
        }
        if (!template.stop().isEmpty()) {
            template.stop().forEach(body.putArray("stop")::add);
        }
        if (stream) {
            body.put("stream", true);
            body.putObject("stream_options").put("include_usage", true);
        }
        return body;
    }

    /** A call that needs the adapter on the server: when the server does not know it (it restarted), loaded again and once more. */
    private <T> Uni<T> withAdapter(Target t, java.util.function.Supplier<Uni<T>> call) {
        return call.get().onFailure(InferenceService::unknownAdapter).recoverWithUni(e -> reload(t).flatMap(v -> call.get()));
    }

    private Multi<JsonNode> streamWithAdapter(Target t, ObjectNode body) {
        return streamWithAdapter(t, "/v1/completions", body);
    }

    private Multi<JsonNode> streamWithAdapter(Target t, String path, ObjectNode body) {
        return protocol.stream(t.server(), path, body).onFailure(InferenceService::unknownAdapter)
                .recoverWithMulti(e -> Multi.createFrom().uni(reload(t)).onItem()
                        .transformToMultiAndConcatenate(v -> protocol.stream(t.server(), path, body)));
    }

    /** Loads the adapter again; a server that refuses it fails the deployment, and the request gets the 409 that says why. */
    private Uni<Boolean> reload(Target t) {
        Deployment d = t.deployment();
        LOG.infof("The %s server does not know %s (it restarted); loading it again", d.modelType, d.servedName);
        return protocol.loadAdapter(t.server(), d.servedName, d.artifact, DeploymentService.pinned(d)).replaceWith(true)
                .onFailure(BackendException::refusal).recoverWithUni(e -> deployments.refused(d, (BackendException) e)
                        .chain(() -> Uni.createFrom().<Boolean>failure(
                                notDeployed(d.modelId, d.version, DeploymentService.refusal(d, (BackendException) e)))));
    }

    private static ApiException notDeployed(String modelId, String version, String reason) {
        return ApiException.conflict("Model '" + modelId + "' cannot serve: version " + version + " could not be deployed: " + reason);
    }

    private static boolean unknownAdapter(Throwable e) {
        return BackendException.refusal(e, 404);
    }

    private static double seconds(long startedNanos) {
        return Math.round((System.nanoTime() - startedNanos) / 1e6) / 1000.0;
    }

    private static Outcome outcome(Throwable e) {
        if (e == null) {
            return Outcome.OK;
        }
        if (e instanceof BackendException b) {
            return switch (b.kind()) {
                case UNAVAILABLE -> Outcome.UNAVAILABLE;
                case FAILED -> Outcome.BACKEND_ERROR;
                case REJECTED -> Outcome.CLIENT_ERROR;
            };
        }
        return e instanceof ApiException a && a.code() == ErrorCode.SERVICE_UNAVAILABLE ? Outcome.UNAVAILABLE
                : Outcome.CLIENT_ERROR;
    }

    /** A backend failure as the API says it; the request id is added by the route. */
    public Throwable toApi(Throwable e) {
        if (!(e instanceof BackendException b)) {
            return e;
        }
        return switch (b.kind()) {
            case UNAVAILABLE -> ApiException.unavailable("The model server is not available now (" + b.withoutAddresses()
                    + "); retry in a few seconds", config.retryAfterSeconds());
            case REJECTED -> b.status() == 400 || b.status() == 422
                    ? b.param() == null ? ApiException.badRequest(b.getMessage()) : new ParamRefusal(b.param(), b.getMessage())
                    : ApiException.badGateway("The model server refused the request: " + b.getMessage());
            case FAILED -> new BackendFailure("The model server failed: " + b.withoutAddresses(), b.getMessage());
        };
    }

    /** A 502 whose message leaves out where the server runs; {@link #detail()}, for the log, keeps it. */
    public static final class BackendFailure extends ApiException {
        private final String detail;

        BackendFailure(String message, String detail) {
            super(ErrorCode.BAD_GATEWAY, message);
            this.detail = detail;
        }

        public String detail() {
            return detail;
        }
    }

}
