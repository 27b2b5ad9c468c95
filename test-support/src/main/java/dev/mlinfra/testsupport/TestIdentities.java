package dev.mlinfra.testsupport;

import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.commons.identity.IdentityTokens;
import io.smallrye.jwt.algorithm.SignatureAlgorithm;
import io.smallrye.jwt.build.Jwt;
import io.smallrye.jwt.build.JwtClaimsBuilder;
import io.smallrye.jwt.util.KeyUtils;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * Identity tokens for tests that call a service directly (header {@code x-mlinfra-identity}), signed
 * with the devstack's identity key exactly as the gateway signs them (SmallRye JWT, RS256, key id
 * {@value Devstack#IDENTITY_KEY_ID}), for the default issuer and audience of {@code mlinfra.identity.*}.
 * {@link #builder} makes the tokens a gateway never would (expired, another issuer, another key).
 */
public final class TestIdentities {

    public static final String ISSUER = "mlinfra-gateway";
    public static final String AUDIENCE = "mlinfra-services";
    private static final Duration LIFETIME = Duration.ofMinutes(30);

    private static PrivateKey devstackKey;

    private TestIdentities() {
    }

    /** A token for {@code team} with the given scopes ({@code read}, {@code write}, {@code admin}); key id {@code test-<team>}. */
    public static String token(String team, String... scopes) {
        return token(new Identity("test-" + team, team, Set.of(scopes)));
    }

    public static String token(Identity identity) {
        return builder(identity).sign(Devstack.IDENTITY_KEY_ID, devstackKey());
    }

    /** The claims the gateway would put in a token for {@code identity}, to change before signing. */
    public static Builder builder(Identity identity) {
        Instant now = Instant.now();
        return new Builder(Jwt.issuer(ISSUER)
                .audience(AUDIENCE)
                .subject(identity.keyId())
                .claim("jti", UUID.randomUUID().toString())
                .claim(IdentityTokens.CLAIM_TEAM, identity.team())
                .groups(identity.scopes())
                .issuedAt(now)
                .expiresAt(now.plus(LIFETIME)));
    }

    /** A fresh 2048-bit RSA key pair, for tests of keys the services do not know or of a rotation. */
    public static KeyPair newKeyPair() {
        try {
            return KeyUtils.generateKeyPair(2048);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Claims of a test token; {@link #sign} closes it. */
    public static final class Builder {
        private JwtClaimsBuilder claims;

        private Builder(JwtClaimsBuilder claims) {
            this.claims = claims;
        }

        public Builder with(UnaryOperator<JwtClaimsBuilder> change) {
            claims = change.apply(claims);
            return this;
        }

        public String sign() {
            return sign(Devstack.IDENTITY_KEY_ID, devstackKey());
        }

        public String sign(String keyId, PrivateKey key) {
            return claims.jws().algorithm(SignatureAlgorithm.RS256).keyId(keyId).sign(key);
        }
    }

    private static synchronized PrivateKey devstackKey() {
        if (devstackKey == null) {
            try {
                devstackKey = KeyUtils.decodePrivateKey(Files.readString(Devstack.identityPrivateKey()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("Not a PKCS#8 RSA key: " + Devstack.identityPrivateKey(), e);
            }
        }
        return devstackKey;
    }
}
