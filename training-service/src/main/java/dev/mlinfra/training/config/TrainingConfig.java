package dev.mlinfra.training.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Configuration of training-service. */
@ConfigMapping(prefix = "mlinfra.training")
public interface TrainingConfig {

    /** Kafka topic of job events (training.job.*). */
    @WithDefault("mlinfra.training")
    String topic();

    /** Kafka topic the trainers report their steps on (its consumer channel reads the same key). */
    @WithDefault("mlinfra.training.progress")
    String progressTopic();

    /** Kafka topic of GPU capacity events (requests, grants, releases). */
    @WithDefault("mlinfra.gpu")
    String gpuTopic();

    /**
     * The execution backend that runs trainers: {@code local} (a process per job on this machine) or
     * {@code kubeflow} (a Kubeflow Trainer TrainJob per job in a Kubernetes cluster).
     */
    @WithDefault("local")
    String backend();

    /** How many launches of a job may end without finishing (crashed, lost) before it fails; stops after a checkpoint on SIGTERM do not count. */
    @WithDefault("3")
    int maxAttempts();

    /** How long a cancelled trainer may take to checkpoint and stop before it is killed. */
    @WithDefault("PT2M")
    Duration cancelGrace();

    /** How often running jobs are checked against their trainers (the same check runs at start). */
    @WithDefault("15s")
    String reconcileInterval();

    /** The model types a job can fine-tune. */
    @WithDefault("scout,maverick")
    List<String> modelTypes();

    /** The local backend. */
    Local local();

    /** The kubeflow backend. */
    Kubeflow kubeflow();

    interface Local {

        /** The trainer: llm-engine's runnable jar ({@code llm-engine/target/llm-engine.jar}, with its lib/ beside it). */
        Optional<String> engineJar();

        /** Where each job gets a folder with its spec and its trainer's log. */
        @WithDefault("${java.io.tmpdir}/mlinfra-training")
        String workDir();

        /** The trainers' data directory: base models and the unpacked PyTorch library, shared by every job. */
        @WithDefault("${java.io.tmpdir}/mlinfra-engine")
        String engineDataDir();

        /** JVM options of a trainer process (space-separated). */
        @WithDefault("-Xmx1g -XX:+UseSerialGC --enable-native-access=ALL-UNNAMED")
        String jvmOptions();
    }

    /**
     * The kubeflow backend: a Kubeflow Trainer (2.2 or later) {@code TrainJob} per job, in one namespace.
     * The GPUs per node of each model type come from {@code gpus.<model-type>} (application.properties
     * sets scout=1, maverick=8).
     */
    interface Kubeflow {

        /** The namespace of the TrainJobs (this service's own); default: the Kubernetes client's namespace. */
        Optional<String> namespace();

        /** The ClusterTrainingRuntime every TrainJob references (by name; it is not read). */
        @WithDefault("torch-distributed")
        String runtime();

        /** The trainer image, with a pinned tag (never {@code latest}). */
        @WithDefault("mlinfra/llm-engine:${quarkus.application.version}")
        String image();

        /** The trainer's program in the image; the TrainJob's args follow it ({@code train --spec-env ...}). */
        @WithDefault("llm-engine")
        List<String> command();

        /**
         * The Secret (in the TrainJobs' namespace) whose keys give the trainer its object store and
         * Kafka: MLINFRA_S3_ENDPOINT, MLINFRA_S3_ACCESS_KEY, MLINFRA_S3_SECRET_KEY, MLINFRA_S3_REGION
         * (optional), MLINFRA_KAFKA_BOOTSTRAP_SERVERS.
         */
        @WithDefault("mlinfra-trainer")
        String secret();

        /** Training nodes (pods) per TrainJob. */
        @WithDefault("1")
        int numNodes();

        /** {@code nvidia.com/gpu} per node for each model type; a model type without an entry gets none. */
        Map<String, Integer> gpus();

        /** Node labels the trainer pods must run on (placed through the TrainJob's runtimePatches). */
        Map<String, String> nodeSelector();

        /**
         * Taints the trainer pods tolerate, as {@code key} (any effect) or {@code key=value:Effect}
         * (value and effect optional: {@code nvidia.com/gpu}, {@code dedicated=ml:NoSchedule}).
         */
        Optional<List<String>> tolerations();
    }
}
