package dev.mlinfra.training.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
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

    /** The execution backend that runs trainers: {@code local} (a process per job on this machine). */
    @WithDefault("local")
    String backend();

    /** How often a job whose trainer stopped without finishing (its machine or service restarted) is launched again, in all. */
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
}
