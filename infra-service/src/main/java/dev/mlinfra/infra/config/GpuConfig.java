package dev.mlinfra.infra.config;

import dev.mlinfra.commons.events.GpuCapacity;
import dev.mlinfra.infra.GpuPool;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The GPU capacity ledger: which pools of capacity exist, what each model type needs of them,
 * and how much one team may hold. The embedded default (application.properties) is one pool
 * {@code local} of one execution slot (kind {@code slot}): the machine it runs on has no GPU, so
 * the ledger hands out the right to run one job at a time, and says so. A cluster configures
 * pools of real GPUs (kind {@code gpu}).
 */
@ConfigMapping(prefix = "mlinfra.gpu")
public interface GpuConfig {

    /** The pools of capacity by name ({@code mlinfra.gpu.pools.<name>.*}); at least one. */
    Map<String, Pool> pools();

    /** What each model type needs ({@code mlinfra.gpu.model-types.<type>.*}); a type not listed here is denied. */
    Map<String, ModelType> modelTypes();

    /** Most GPUs (or slots) one team may hold at once, across all pools; absent: no quota. */
    OptionalInt teamQuota();

    /** Kafka topic of GPU capacity events (requests and releases in, grants and denials out). */
    @WithDefault(GpuCapacity.TOPIC)
    String topic();

    /** How often the gauges {@code mlinfra.gpu.allocated} and {@code mlinfra.gpu.waiting} are read anew from the database. */
    @WithDefault("15s")
    String metricsRefresh();

    interface Pool {

        /** How many GPUs (kind {@code gpu}) or execution slots (kind {@code slot}) the pool has. */
        int size();

        /**
         * {@code gpu}: the pool counts GPUs of GPU nodes; {@code slot}: the machine has no GPU and
         * the pool counts execution slots (jobs or deployments that may run at once).
         */
        @WithDefault("gpu")
        GpuPool.Kind kind();
    }

    interface ModelType {

        /** The pool whose capacity the model type's work runs on. */
        String pool();

        /** How many GPUs (or slots) of that pool one job or deployment of this model type holds. */
        int gpus();
    }
}
