package dev.mlinfra.inference.backend;

import dev.mlinfra.inference.config.InferenceConfig;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The KServe object that serves one base model type, as the kserve backend creates it, and what
 * its status says. An {@code InferenceService} ({@code serving.kserve.io/v1beta1}) runs KServe's
 * Hugging Face runtime with vLLM on the base model at its storage URI; an
 * {@code LLMInferenceService} ({@code serving.kserve.io/v1alpha1}) runs vLLM through llm-d. Both
 * get vLLM's LoRA arguments and {@code VLLM_ALLOW_RUNTIME_LORA_UPDATING=True}, so adapters are
 * loaded at runtime by their object-store location, as on every other backend.
 */
final class KServeObjects {

    static final String GROUP = "serving.kserve.io";
    static final String INFERENCE_SERVICE = "InferenceService";
    static final String LLM_INFERENCE_SERVICE = "LLMInferenceService";
    static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    static final String MANAGER = "inference-service";
    static final String MODEL_TYPE = "mlinfra.dev/model-type";
    static final String NAME_PREFIX = "mlinfra-";
    static final String GPU = "nvidia.com/gpu";
    static final String RUNTIME_LORA_UPDATING = "VLLM_ALLOW_RUNTIME_LORA_UPDATING";
    /** How llm-d's vLLM container takes arguments beyond its own. */
    static final String VLLM_ADDITIONAL_ARGS = "VLLM_ADDITIONAL_ARGS";
    static final String HUGGINGFACE = "huggingface";
    /** The container of an LLMInferenceService's template that runs vLLM. */
    static final String MAIN_CONTAINER = "main";
    /** Where KServe's Hugging Face runtime serves the vLLM/OpenAI API under the object's URL. */
    static final String HUGGINGFACE_OPENAI_PATH = "/openai";

    private final InferenceConfig.KServe config;
    private final boolean llm;
    private final ResourceDefinitionContext context;
    private final String openaiPath;

    KServeObjects(InferenceConfig.KServe config) {
        this.config = config;
        this.llm = switch (config.kind()) {
            case INFERENCE_SERVICE -> false;
            case LLM_INFERENCE_SERVICE -> true;
            default -> throw new IllegalStateException("mlinfra.inference.kserve.kind=" + config.kind()
                    + " is no KServe kind this backend creates (expected " + INFERENCE_SERVICE + " or " + LLM_INFERENCE_SERVICE + ")");
        };
        this.context = new ResourceDefinitionContext.Builder().withGroup(GROUP).withVersion(llm ? "v1alpha1" : "v1beta1")
                .withKind(config.kind()).withPlural(config.kind().toLowerCase() + "s").withNamespaced(true).build();
        String path = config.openaiPath().orElse(llm ? "/" : HUGGINGFACE_OPENAI_PATH).strip();
        path = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        this.openaiPath = path.isEmpty() || path.startsWith("/") ? path : "/" + path;
    }

    ResourceDefinitionContext context() {
        return context;
    }

    String kind() {
        return config.kind();
    }

    static String name(String modelType) {
        return NAME_PREFIX + modelType;
    }

    /** The object to create for a model type; fails naming the key when its base model's location is not configured. */
    GenericKubernetesResource create(String modelType, String namespace) {
        String storageUri = config.storageUri().get(modelType);
        if (storageUri == null || storageUri.isBlank()) {
            throw new IllegalStateException("no base model location for model type '" + modelType
                    + "': set mlinfra.inference.kserve.storage-uri." + modelType + " (e.g. s3://mlinfra-models/bases/" + modelType + ")");
        }
        String gpus = Integer.toString(config.gpus().get(modelType));
        Map<String, Object> resources = Map.of("requests", Map.of(GPU, gpus), "limits", Map.of(GPU, gpus));
        Map<String, Object> runtimeLoraUpdating = Map.of("name", RUNTIME_LORA_UPDATING, "value", "True");
        Map<String, Object> spec = new LinkedHashMap<>();
        if (llm) {
            Map<String, Object> main = new LinkedHashMap<>();
            main.put("name", MAIN_CONTAINER);
            config.runtimeImage().ifPresent(image -> main.put("image", image));
            main.put("env", List.of(runtimeLoraUpdating, Map.of("name", VLLM_ADDITIONAL_ARGS, "value", String.join(" ", vllmArgs()))));
            main.put("resources", resources);
            Map<String, Object> template = new LinkedHashMap<>();
            config.serviceAccount().ifPresent(account -> template.put("serviceAccountName", account));
            template.put("containers", List.of(main));
            spec.put("model", Map.of("uri", storageUri, "name", modelType));
            spec.put("replicas", 1);
            spec.put("template", template);
            spec.put("router", Map.of("route", Map.of(), "gateway", Map.of()));
        } else {
            Map<String, Object> model = new LinkedHashMap<>();
            model.put("modelFormat", Map.of("name", HUGGINGFACE));
            model.put("storageUri", storageUri);
            config.runtimeImage().ifPresent(image -> model.put("image", image));
            model.put("args", vllmArgs());
            model.put("env", List.of(runtimeLoraUpdating));
            model.put("resources", resources);
            Map<String, Object> predictor = new LinkedHashMap<>();
            // one server per type, as locally: adapters loaded at runtime live in that one server
            predictor.put("minReplicas", 1);
            predictor.put("maxReplicas", 1);
            config.serviceAccount().ifPresent(account -> predictor.put("serviceAccountName", account));
            predictor.put("model", model);
            spec.put("predictor", predictor);
        }
        return new GenericKubernetesResourceBuilder()
                .withApiVersion(GROUP + "/" + context.getVersion()).withKind(config.kind())
                .withNewMetadata().withName(name(modelType)).withNamespace(namespace)
                .addToLabels(MANAGED_BY, MANAGER).addToLabels(MODEL_TYPE, modelType).endMetadata()
                .addToAdditionalProperties("spec", spec)
                .build();
    }

    /** vLLM's LoRA arguments, then the configured ones (vLLM takes the last of a repeated argument). */
    List<String> vllmArgs() {
        List<String> args = new ArrayList<>(List.of("--enable-lora", "--max-loras=" + config.maxLoras(),
                "--max-lora-rank=" + config.maxLoraRank()));
        config.args().ifPresent(args::addAll);
        return args;
    }

    /** The model type an object of this backend serves (its label). */
    static String modelType(GenericKubernetesResource r) {
        return r.getMetadata().getLabels() == null ? null : r.getMetadata().getLabels().get(MODEL_TYPE);
    }

    /** The base URL of the vLLM/OpenAI API of a ready object ({@code status.url} and the OpenAI path); empty while it is not ready. */
    Optional<URI> url(GenericKubernetesResource r) {
        if (!ready(r)) {
            return Optional.empty();
        }
        return statusUrl(r).map(u -> URI.create(u.endsWith("/") ? u.substring(0, u.length() - 1) + openaiPath : u + openaiPath));
    }

    static Optional<String> statusUrl(GenericKubernetesResource r) {
        Object url = r.get("status", "url");
        return url instanceof String s && !s.isBlank() ? Optional.of(s) : Optional.empty();
    }

    /** Ready: its {@code Ready} condition is {@code True}, it has a URL and it is not being deleted. */
    static boolean ready(GenericKubernetesResource r) {
        return r.getMetadata().getDeletionTimestamp() == null && statusUrl(r).isPresent()
                && readyCondition(r).map(c -> "True".equals(c.get("status"))).orElse(false);
    }

    /** Why an object is not ready, as its {@code Ready} condition says (reason: message); null when it says nothing. */
    static String notReadyBecause(GenericKubernetesResource r) {
        return readyCondition(r).filter(c -> !"True".equals(c.get("status")))
                .map(c -> c.getOrDefault("reason", "NotReady") + (c.get("message") == null ? "" : ": " + c.get("message")))
                .orElse(null);
    }

    @SuppressWarnings("unchecked")
    private static Optional<Map<String, Object>> readyCondition(GenericKubernetesResource r) {
        Object conditions = r.get("status", "conditions");
        if (!(conditions instanceof List<?> list)) {
            return Optional.empty();
        }
        return list.stream().filter(c -> c instanceof Map<?, ?> m && "Ready".equals(m.get("type")))
                .map(c -> (Map<String, Object>) c).findFirst();
    }
}
