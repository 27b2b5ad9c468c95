package dev.mlinfra.commons.identity;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/** The internal identity token the gateway issues and the services verify. */
@ConfigMapping(prefix = "mlinfra.identity")
public interface IdentityConfig {

    /** Whether requests under /v1 must carry a valid identity token (true on every service, false on the gateway). */
    @WithDefault("true")
    boolean verify();

    /** PEM file with the public key that verifies tokens. Required where {@link #verify()} is on. */
    Optional<String> publicKeyLocation();

    /** PEM (PKCS#8) file with the private key that signs tokens; only the gateway has it. */
    Optional<String> privateKeyLocation();

    /** Issuer claim of the tokens. */
    @WithDefault("mlinfra-gateway")
    String issuer();

    /** Audience claim of the tokens. */
    @WithDefault("mlinfra-services")
    String audience();

    /** How long an issued token is valid. */
    @WithDefault("PT5M")
    Duration tokenLifetime();

    /** Allowed clock difference between gateway and services when checking expiry. */
    @WithDefault("PT30S")
    Duration clockSkew();
}
