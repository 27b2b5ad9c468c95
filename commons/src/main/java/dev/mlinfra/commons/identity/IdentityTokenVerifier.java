package dev.mlinfra.commons.identity;

import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jose4j.jwa.AlgorithmConstraints;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.MalformedClaimException;
import org.jose4j.jwt.consumer.InvalidJwtException;
import org.jose4j.jwt.consumer.JwtConsumer;
import org.jose4j.jwt.consumer.JwtConsumerBuilder;

/**
 * Verifies identity tokens. The gateway reuses one token per key for its lifetime, so a
 * verified token is remembered until it expires instead of checking its signature again.
 */
public final class IdentityTokenVerifier {

    /** Bounds the memory of remembered tokens; past it the memory starts over. */
    private static final int MAX_REMEMBERED = 10_000;

    private record Verified(Identity identity, long expiresAtSeconds) {
    }

    private final JwtConsumer consumer;
    private final Clock clock;
    private final long skewSeconds;
    private final Map<String, Verified> verified = new ConcurrentHashMap<>();

    public IdentityTokenVerifier(PublicKey publicKey, String issuer, String audience, Duration clockSkew, Clock clock) {
        this.clock = clock;
        this.skewSeconds = clockSkew.toSeconds();
        this.consumer = new JwtConsumerBuilder()
                .setRequireExpirationTime()
                .setRequireSubject()
                .setAllowedClockSkewInSeconds((int) skewSeconds)
                .setExpectedIssuer(issuer)
                .setExpectedAudience(audience)
                .setVerificationKey(publicKey)
                .setJwsAlgorithmConstraints(AlgorithmConstraints.ConstraintType.PERMIT, AlgorithmIdentifiers.RSA_USING_SHA256)
                .build();
    }

    public static IdentityTokenVerifier fromConfig(IdentityConfig config) {
        String pub = config.publicKeyLocation().orElseThrow(() -> new IllegalStateException(
                "mlinfra.identity.public-key-location is not set: services need the gateway's public key to verify callers"));
        return new IdentityTokenVerifier(PemKeys.readPublic(pub), config.issuer(), config.audience(),
                config.clockSkew(), Clock.systemUTC());
    }

    /** The identity a valid token vouches for; empty when the token is missing, forged, expired or malformed. */
    public Optional<Identity> verify(String token) {
        if (token == null || token.isBlank()) {
            return Optional.empty();
        }
        long now = clock.instant().getEpochSecond();
        Verified known = verified.get(token);
        if (known != null) {
            if (known.expiresAtSeconds + skewSeconds > now) {
                return Optional.of(known.identity);
            }
            verified.remove(token);
            return Optional.empty();
        }
        try {
            JwtClaims claims = consumer.processToClaims(token);
            List<String> scopes = claims.getStringListClaimValue(IdentityTokens.CLAIM_SCOPES);
            String team = claims.getStringClaimValue(IdentityTokens.CLAIM_TEAM);
            String keyId = claims.getStringClaimValue(IdentityTokens.CLAIM_KEY_ID);
            if (team == null || keyId == null || scopes == null) {
                return Optional.empty();
            }
            Identity identity = new Identity(keyId, team, new HashSet<>(scopes));
            if (verified.size() >= MAX_REMEMBERED) {
                verified.clear();
            }
            verified.put(token, new Verified(identity, claims.getExpirationTime().getValue()));
            return Optional.of(identity);
        } catch (InvalidJwtException | MalformedClaimException e) {
            return Optional.empty();
        }
    }
}
