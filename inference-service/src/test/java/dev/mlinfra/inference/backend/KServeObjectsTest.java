package dev.mlinfra.inference.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.inference.config.InferenceConfig;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The KServe objects the kserve backend creates, read from configuration as the service reads it:
 * the LLMInferenceService variant field by field (the InferenceService one is asserted against
 * the cluster in KServeBackendTest), readiness from the status, and the URL the API is called at.
 */
class KServeObjectsTest {

    private static KServeObjects objects(Map<String, String> properties) {
        Map<String, String> all = new HashMap<>(properties);
        all.putIfAbsent("mlinfra.inference.kserve.storage-uri.scout", "s3://mlinfra-models/bases/scout");
        // as Quarkus reads it: durations such as "30s"
        SmallRyeConfig config = new SmallRyeConfigBuilder().addDefaultSources().withMapping(InferenceConfig.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withSources(new PropertiesConfigSource(all, "test", 500)).build();
        return new KServeObjects(config.getConfigMapping(InferenceConfig.class).kserve());
    }

    private static GenericKubernetesResource withStatus(String url, String ready) {
        GenericKubernetesResource r = objects(Map.of()).create("scout", "ml");
        r.setAdditionalProperty("status", Map.of("url", url, "conditions",
                List.of(Map.of("type", "PredictorReady", "status", "True"), Map.of("type", "Ready", "status", ready,
                        "reason", "RevisionMissing", "message", "pulling the image"))));
        return r;
    }

    @Test
    void anLlmInferenceServiceRunsVllmWithRuntimeLoraLoading() {
        KServeObjects llm = objects(Map.of("mlinfra.inference.kserve.kind", "LLMInferenceService",
                "mlinfra.inference.kserve.gpus.scout", "2", "mlinfra.inference.kserve.service-account", "mlinfra-serving",
                "mlinfra.inference.kserve.runtime-image", "vllm/vllm-openai:v0.10.1",
                "mlinfra.inference.kserve.args", "--max-model-len=8192,--gpu-memory-utilization=0.9"));
        GenericKubernetesResource r = llm.create("scout", "ml");

        assertEquals("serving.kserve.io/v1alpha1", r.getApiVersion());
        assertEquals("LLMInferenceService", r.getKind());
        assertEquals("llminferenceservices", llm.context().getPlural());
        assertEquals("mlinfra-scout", r.getMetadata().getName());
        assertEquals("ml", r.getMetadata().getNamespace());
        assertEquals(Map.of("app.kubernetes.io/managed-by", "inference-service", "mlinfra.dev/model-type", "scout"),
                r.getMetadata().getLabels());
        assertEquals(Map.of("uri", "s3://mlinfra-models/bases/scout", "name", "scout"), r.get("spec", "model"));
        assertEquals(1, (int) r.get("spec", "replicas"));
        assertEquals(Map.of("route", Map.of(), "gateway", Map.of()), r.get("spec", "router"));
        assertEquals("mlinfra-serving", r.get("spec", "template", "serviceAccountName"));
        assertEquals("main", r.get("spec", "template", "containers", 0, "name"));
        assertEquals("vllm/vllm-openai:v0.10.1", r.get("spec", "template", "containers", 0, "image"));
        assertEquals(List.of(Map.of("name", "VLLM_ALLOW_RUNTIME_LORA_UPDATING", "value", "True"),
                Map.of("name", "VLLM_ADDITIONAL_ARGS",
                        "value", "--enable-lora --max-loras=4 --max-lora-rank=16 --max-model-len=8192 --gpu-memory-utilization=0.9")),
                r.get("spec", "template", "containers", 0, "env"));
        assertEquals(Map.of("requests", Map.of("nvidia.com/gpu", "2"), "limits", Map.of("nvidia.com/gpu", "2")),
                r.get("spec", "template", "containers", 0, "resources"));
    }

    @Test
    void aModelTypeWithoutABaseLocationIsRefusedNamingTheKey() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> objects(Map.of()).create("maverick", "ml"));
        assertTrue(e.getMessage().contains("mlinfra.inference.kserve.storage-uri.maverick"), e.getMessage());
    }

    @Test
    void anUnknownKindIsRefusedAtStart() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> objects(Map.of("mlinfra.inference.kserve.kind", "Deployment")));
        assertTrue(e.getMessage().contains("InferenceService or LLMInferenceService"), e.getMessage());
    }

    @Test
    void theHuggingFaceRuntimesApiIsCalledUnderOpenaiAndLlmdsAtTheRoot() {
        GenericKubernetesResource ready = withStatus("http://mlinfra-scout.ml.example.com", "True");
        URI isvc = objects(Map.of()).url(ready).orElseThrow();
        assertEquals(URI.create("http://mlinfra-scout.ml.example.com/openai"), isvc);
        assertEquals("http://mlinfra-scout.ml.example.com/openai/v1/completions", OpenAiProtocol.endpoint(isvc, "/v1/completions"));
        assertEquals(Optional.of(URI.create("http://mlinfra-scout.ml.example.com")),
                objects(Map.of("mlinfra.inference.kserve.kind", "LLMInferenceService")).url(ready));
        assertEquals(Optional.of(URI.create("http://mlinfra-scout.ml.example.com/v1/serving")),
                objects(Map.of("mlinfra.inference.kserve.openai-path", "v1/serving/")).url(ready));
        // a path-less URL keeps calling the root, as the local and openai backends do
        assertEquals("http://127.0.0.1:8000/v1/models", OpenAiProtocol.endpoint(URI.create("http://127.0.0.1:8000"), "/v1/models"));
    }

    @Test
    void onlyAReadyConditionWithAUrlMakesAServer() {
        GenericKubernetesResource starting = withStatus("http://mlinfra-scout.ml.example.com", "False");
        assertFalse(KServeObjects.ready(starting));
        assertTrue(objects(Map.of()).url(starting).isEmpty());
        assertEquals("RevisionMissing: pulling the image", KServeObjects.notReadyBecause(starting));
        assertTrue(KServeObjects.ready(withStatus("http://mlinfra-scout.ml.example.com", "True")));
        assertNull(KServeObjects.notReadyBecause(withStatus("http://mlinfra-scout.ml.example.com", "True")));
        GenericKubernetesResource fresh = objects(Map.of()).create("scout", "ml");
        assertFalse(KServeObjects.ready(fresh), "no status yet");
        assertNull(KServeObjects.notReadyBecause(fresh));
    }
}
