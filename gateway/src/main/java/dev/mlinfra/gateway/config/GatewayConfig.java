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

    /** Sign-in with Bearer JWTs of external OpenID Connect providers (docs/IDENTITY.md). */
    Oidc oidc();

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

        /**
         * While the keys cannot be read (the database is away), a key read successfully this recently is
         * trusted as it was then, so the platform's status and what does not need the database stay
         * reachable; PT0S trusts none. Revocations need the database too, so none is missed meanwhile
         * beyond those made in the cache TTL before the outage.
         */
        @WithDefault("PT5M")
        Duration outageGrace();

        /**
         * How long a request waits for its key to be read before the read counts as failed (then the
         * outage grace applies): a database that hangs, rather than refusing, holds no request longer.
         */
        @WithDefault("PT3S")
        Duration readTimeout();

        /** The first admin key (team 'default') to create when no key exists yet; generated when absent. */
        Optional<String> bootstrapApiKey();

        /**
         * An admin key (team 'default') added at startup even though keys exist, for an installation
         * whose administrators lost every admin key; never restored once revoked. Remove it from the
         * configuration once a new admin key is made with it.
         */
        Optional<String> recoveryApiKey();
    }

    interface Proxy {
        /**
         * Largest request body forwarded to a service (dataset file uploads aside). At most the services'
         * own limit ({@code quarkus.http.limits.max-body-size}, 10M): the gateway then refuses every
         * body too large with the error object, before a service cuts the connection halfway.
         */
        @WithDefault("10M")
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
         * Time inference-service may stay silent on a generation answered whole ({@code POST
         * /v1/inference}, {@code POST /v1/openai/completions} and {@code /chat/completions}) before
         * the gateway answers 504: longer than its own generation timeout
         * ({@code mlinfra.inference.calls.generation-timeout}, 120 s), so that its answer, which
         * says what went wrong, arrives first.
         */
        @WithDefault("PT150S")
        Duration generationResponseTimeout();

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

    /**
     * How a Bearer JWT of an external OpenID Connect provider becomes a caller. quarkus-oidc verifies
     * the token (one tenant per provider, {@code quarkus.oidc.<tenant>.*}, picked by the token's issuer);
     * these keys say which claims name the team and the scopes. Each key applies to every provider unless
     * {@code providers.<tenant>} sets it for one.
     */
    interface Oidc {
        /**
         * Whether a Bearer value that is a JWT rather than an API key is verified as a token of the
         * providers under {@code quarkus.oidc}; off: it is refused like an unknown key.
         */
        @WithDefault("false")
        boolean enabled();

        /**
         * Claim that names the caller's team: a string, or an array (such as {@code groups}) of which the first
         * value with {@link #teamPrefix()} counts; '/' walks into nested objects ({@code realm_access/roles})
         * unless a claim has the whole name (a URL such as {@code https://example.com/team}).
         */
        @WithDefault("team")
        String teamClaim();

        /**
         * Only team-claim values that start with this prefix name a team, without it ('mlinfra-' turns
         * group 'mlinfra-vision' into team 'vision'); unset: every value.
         */
        Optional<String> teamPrefix();

        /**
         * Claim that carries the caller's scopes: a space-separated string (OAuth's {@code scope}) or an
         * array; '/' as in the team claim.
         */
        @WithDefault("scope")
        String scopesClaim();

        /**
         * Only scopes-claim values that start with this prefix are mlinfra scopes, without it
         * ('mlinfra:write' grants 'write'); unset: the values as they are. Values other than read, write
         * and admin are ignored.
         */
        Optional<String> scopePrefix();

        /** Claim mapping of one provider, by its quarkus-oidc tenant id, where it differs from the keys above. */
        Map<String, OidcProvider> providers();
    }

    /** The claim mapping of one provider; an unset key takes the value of {@code mlinfra.gateway.oidc.*}. */
    interface OidcProvider {
        /** This provider's team claim. */
        Optional<String> teamClaim();

        /** This provider's team prefix. */
        Optional<String> teamPrefix();

        /** This provider's scopes claim. */
        Optional<String> scopesClaim();

        /** This provider's scope prefix. */
        Optional<String> scopePrefix();
    }
}
