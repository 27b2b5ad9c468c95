package dev.mlinfra.infra.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * What infra-service looks at for {@code /v1/infrastructure/status} and {@code /metrics}: the
 * platform's services, how long a probe may take, how usage is sampled and kept, and, in a
 * cluster, the Prometheus server that answers the metrics history instead.
 */
@ConfigMapping(prefix = "mlinfra.infra")
public interface InfraConfig {

    /**
     * How long one component's probe may take; a component that has not answered by then is
     * {@code unhealthy} ("did not answer within ..."), and the status answers anyway.
     */
    @WithDefault("2s")
    Duration probeTimeout();

    /**
     * The platform's services by status key ({@code gateway}, {@code dataset_service},
     * {@code training_service}, {@code registry_service}, {@code inference_service}): their base URLs.
     * The training and serving backends and the MLflow mirror are asked of training-, inference- and
     * registry-service; a service not listed here is not in the status.
     */
    Map<String, Service> services();

    /** Local sampling of resource usage (the embedded default). */
    Local local();

    /** Retention of the sampled history in the service's database. */
    History history();

    /** Prometheus (cluster): when {@code url} is set, the metrics history is read from it. */
    Prometheus prometheus();

    interface Service {

        /** Base URL of its API, e.g. {@code http://training-service:8080}. */
        String url();

        /**
         * Base URL of its management interface, where {@code /q/health} and {@code /q/info} answer,
         * e.g. {@code http://training-service:9000}; the API's URL when absent.
         */
        Optional<String> managementUrl();
    }

    interface Local {

        /** How often host and component usage are sampled and stored. */
        @WithDefault("15s")
        Duration sampleInterval();

        /**
         * The processes of each component, by status key: a piece of their command line (e.g. the data
         * directory PostgreSQL was started with, or a service's jar), or {@code self} for infra-service's
         * own process. A process that matches counts with all of its descendants. Components without an
         * entry have no cpu/memory history.
         */
        Map<String, String> processes();

        /** Data directories by status key: their file system's fill level is the component's storage figure. */
        Map<String, String> dataDirs();

        /**
         * The object store's data directory: its file system's fill level is {@code storage_usage}.
         * Absent: the file system of the service's working directory.
         */
        Optional<String> storagePath();

        /** The command that reports GPU utilization; absent from the machine: the machine has no GPU. */
        @WithDefault("nvidia-smi")
        String nvidiaSmi();
    }

    interface History {

        /** How long raw samples are kept; queries read the rollups, which keep each period's interval for that period. */
        @WithDefault("24h")
        Duration rawRetention();

        /** How often samples and rollups past their retention are deleted. */
        @WithDefault("10m")
        Duration cleanupInterval();
    }

    interface Prometheus {

        /** Base URL of the Prometheus server (e.g. {@code http://prometheus:9090}); absent: the history is local. */
        Optional<String> url();

        /**
         * PromQL per metric ({@code cpu}, {@code memory}, {@code gpu}, {@code storage}) for the platform as a
         * whole, in percent. A metric without a query has no history.
         */
        Map<String, String> queries();

        /**
         * PromQL per metric for one component, in percent; {@code {component}} is replaced by the component's
         * status key, {@code {container}} by the name of its container ({@link #containers()}).
         */
        Map<String, String> componentQueries();

        /**
         * The container of a component, by status key, where it is not the key with '-' for '_'
         * ({@code training_service}: {@code training-service}), e.g. {@code postgresql=postgres}.
         */
        Map<String, String> containers();

        /** PromQL for the number of GPUs in the cluster (the status' {@code gpus}); no value: 0. */
        @WithDefault("count(DCGM_FI_DEV_GPU_UTIL)")
        String gpuCount();
    }
}
