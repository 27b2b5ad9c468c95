package dev.mlinfra.inference.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Configuration of inference-service. */
@ConfigMapping(prefix = "mlinfra.inference")
public interface InferenceConfig {

    /** Kafka topic of the registry's model events. */
    @WithDefault("mlinfra.models")
    String modelsTopic();

    /** Kafka topic of this service's deployment events. */
    @WithDefault("mlinfra.serving")
    String servingTopic();

    /**
     * The serving backend: {@code local} (model-server processes on this machine), {@code openai}
     * (servers by URL) or {@code kserve} (KServe objects in a Kubernetes cluster).
     */
    @WithDefault("local")
    String backend();

    /** The model types that can be served. */
    @WithDefault("scout,maverick")
    List<String> modelTypes();

    /** The longest context (prompt plus answer, in tokens) of the served models; bounds max_tokens. */
    @WithDefault("2048")
    int maxContextTokens();

    /** How long a client is asked to wait (Retry-After) while a model's server starts or its adapter loads. */
    @WithDefault("5")
    int retryAfterSeconds();

    /** How often deployments still deploying are tried again, and the servers they need kept up. */
    @WithDefault("10s")
    String reconcileInterval();

    /**
     * How often the servers this service runs (local, kserve) are cleared of adapters that no
     * deployment serves any more: an unload that failed, or a load that landed after its version
     * was archived or deleted. Servers named by URL (openai) are left as they are.
     */
    @WithDefault("30s")
    String adapterSweepInterval();

    /** Calls to the serving backends. */
    Calls calls();

    /** The local backend. */
    Local local();

    /** The openai backend. */
    OpenAi openai();

    /** The kserve backend. */
    KServe kserve();

    interface Calls {

        /** Connecting to a server. */
        @WithDefault("2s")
        Duration connectTimeout();

        /** A generation: from sending the request to its last token. */
        @WithDefault("120s")
        Duration generationTimeout();

        /** Loading or unloading an adapter, listing models. */
        @WithDefault("30s")
        Duration adminTimeout();

        /** Failed calls in a row that open a backend's circuit. */
        @WithDefault("5")
        int circuitFailures();

        /** How long an open circuit refuses calls before one is tried again. */
        @WithDefault("10s")
        Duration circuitOpen();
    }

    interface Local {

        /** model-server's runnable jar ({@code model-server/target/quarkus-app/quarkus-run.jar}). */
        Optional<String> modelServerJar();

        /** Where each server gets a folder with its log. */
        @WithDefault("${java.io.tmpdir}/mlinfra-serving")
        String workDir();

        /** The servers' data directory (base models, the unpacked PyTorch library); the trainers' one is shared. */
        @WithDefault("${java.io.tmpdir}/mlinfra-engine")
        String engineDataDir();

        /** JVM options of a server process (space-separated). */
        @WithDefault("-Xmx1g -XX:+UseSerialGC --enable-native-access=ALL-UNNAMED")
        String jvmOptions();

        /** Adapters a server keeps in memory (model-server's LRU); others are read again when asked for. */
        @WithDefault("4")
        int maxLoras();

        /** How long a server may take to answer its health check after it starts. */
        @WithDefault("180s")
        Duration startTimeout();

        /** First wait before a crashed server is started again; doubled after each crash in a row, up to max-restart-backoff. */
        @WithDefault("1s")
        Duration restartBackoff();

        @WithDefault("60s")
        Duration maxRestartBackoff();
    }

    interface OpenAi {

        /** The vLLM/OpenAI-compatible server of each model type, e.g. {@code mlinfra.inference.openai.urls.scout=http://vllm:8000}. */
        Map<String, String> urls();
    }

    interface KServe {

        /** The namespace of the serving objects; unset: the client's namespace (the pod's own in a cluster). */
        Optional<String> namespace();

        /**
         * The kind of object per model type: {@code InferenceService} ({@code serving.kserve.io/v1beta1},
         * Hugging Face runtime with vLLM) or {@code LLMInferenceService} ({@code serving.kserve.io/v1alpha1}).
         */
        @WithDefault("InferenceService")
        String kind();

        /** Where each base model lives, e.g. {@code mlinfra.inference.kserve.storage-uri.scout=s3://mlinfra-models/bases/scout}. */
        Map<String, String> storageUri();

        /** GPUs of each model type's server, e.g. {@code mlinfra.inference.kserve.gpus.maverick=4}; 1 for a type not named. */
        @WithDefault("1")
        Map<String, Integer> gpus();

        /**
         * The path under the object's {@code status.url} where the vLLM/OpenAI API answers ({@code /v1/...} below it):
         * unset, {@code /openai} for an InferenceService (the Hugging Face runtime's prefix) and {@code /} (the root)
         * for an LLMInferenceService.
         */
        Optional<String> openaiPath();

        /** The service account of the server pods (e.g. one with the object store's credentials for the storage initializer). */
        Optional<String> serviceAccount();

        /** The server image; unset, KServe picks the runtime that serves {@code huggingface} models. */
        Optional<String> runtimeImage();

        /** Further vLLM arguments, one per element (e.g. {@code --max-model-len=8192}). */
        Optional<List<String>> args();

        /** Adapters a server holds in GPU memory at once ({@code --max-loras}). */
        @WithDefault("4")
        int maxLoras();

        /** The largest LoRA rank a server accepts ({@code --max-lora-rank}; the trainer's default rank is 16). */
        @WithDefault("16")
        int maxLoraRank();
    }
}
