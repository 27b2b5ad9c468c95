package dev.mlinfra.gateway.config;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

@ConfigMapping(prefix = "mlinfra.gateway")
public interface GatewayConfig {

    /** Backend services by name (training, datasets, registry, inference, infrastructure). */
    Map<String, Backend> services();

    RateLimit rateLimit();

    Auth auth();

    Proxy proxy();

    OpenApi openapi();

    interface Backend {
        /** Base URL of the service, e.g. http://127.0.0.1:8082. */
        String url();
    }

    interface RateLimit {
        /** Where windows are counted: {@code memory} (this replica) or {@code postgres} (shared by all replicas). */
        @WithDefault("memory")
        String store();

        /** Length of one rate-limit window. */
        @WithDefault("PT1M")
        Duration window();

        /** Requests allowed per key and area in one window; an area without a limit is not limited. */
        Map<String, Integer> limits();
    }

    interface Auth {
        /** How long a looked-up key is trusted before it is read again; bounds how late a revocation takes effect. */
        @WithDefault("PT2S")
        Duration cacheTtl();

        /** The first admin key (team 'default') to create when no key exists yet; generated when absent. */
        Optional<String> bootstrapApiKey();
    }

    interface Proxy {
        /** Largest request body forwarded to a service. */
        @WithDefault("16M")
        MemorySize maxBodySize();

        /** Largest body of a dataset file upload. */
        @WithDefault("10G")
        MemorySize maxUploadSize();

        /** Time to open a connection to a service before answering 503. */
        @WithDefault("PT5S")
        Duration connectTimeout();

        /** Time a service may stay silent (no response data) before the gateway answers 504. */
        @WithDefault("PT60S")
        Duration responseTimeout();

        /**
         * Time a service may stay silent after a dataset file upload before the gateway answers
         * 504: the service answers once the whole file is stored and validated.
         */
        @WithDefault("PT30M")
        Duration uploadResponseTimeout();

        /** Pooled connections per service. */
        @WithDefault("256")
        int maxConnectionsPerService();
    }

    /** The whole API's document at /q/openapi, merged from the services' own. */
    interface OpenApi {
        /** How often each service's document is fetched again. */
        @WithDefault("PT60S")
        Duration refreshInterval();

        /** How soon to try again after a fetch failed (at start, until every service has answered). */
        @WithDefault("PT5S")
        Duration retryInterval();

        /** Time a service has to answer with its document. */
        @WithDefault("PT5S")
        Duration fetchTimeout();
    }
}
