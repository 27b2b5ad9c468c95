package dev.mlinfra.commons.identity;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The internal identity token the gateway issues and the services verify. Services verify it with
 * SmallRye JWT ({@code mp.jwt.*}, defaults in commons' microprofile-config.properties); the keys
 * below that sign and publish it are the gateway's.
 */
@ConfigMapping(prefix = "mlinfra.identity")
public interface IdentityConfig {

    /** Whether requests under /v1 and /internal must carry a valid identity token (true on every service, false on the gateway). */
    @WithDefault("true")
    boolean verify();

    /** Issuer claim of the tokens (services check it through {@code mp.jwt.verify.issuer}). */
    @WithDefault("mlinfra-gateway")
    String issuer();

    /** Audience claim of the tokens (services check it through {@code mp.jwt.verify.audiences}). */
    @WithDefault("mlinfra-services")
    String audience();

    /** How long an issued token is valid. Retired keys stay published at least this long plus the services' JWKS refresh interval. */
    @WithDefault("PT5M")
    Duration tokenLifetime();

    /** Gateway: id ({@code kid}) of the key in {@link #keys()} that signs new tokens; it needs its private key. */
    Optional<String> currentKey();

    /**
     * Gateway: every key published in the JWKS, by key id: the current key, the next key (published
     * before it signs anything, so services know it in time) and retired keys (kept until every
     * token they signed has expired).
     */
    Map<String, Key> keys();

    /** One RSA key of the rotation. */
    interface Key {

        /** PEM file with the public key (X.509 {@code BEGIN PUBLIC KEY}). */
        String publicKeyLocation();

        /** PEM file with the PKCS#8 private key; only the current key needs it. */
        Optional<String> privateKeyLocation();
    }
}
