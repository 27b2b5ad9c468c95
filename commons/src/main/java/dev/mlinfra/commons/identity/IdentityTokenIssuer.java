package dev.mlinfra.commons.identity;

import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.NumericDate;
import org.jose4j.lang.JoseException;

/** Signs short-lived identity tokens (RS256). Held by the gateway and by tests that call services directly. */
public final class IdentityTokenIssuer {

    /** A signed token and the instant it stops being valid. */
    public record Token(String value, Instant expiresAt) {
    }

    private final PrivateKey privateKey;
    private final String keyId;
    private final String issuer;
    private final String audience;
    private final Duration lifetime;
    private final Clock clock;

    public IdentityTokenIssuer(PrivateKey privateKey, PublicKey publicKey, String issuer, String audience,
            Duration lifetime, Clock clock) {
        this.privateKey = privateKey;
        this.keyId = PemKeys.keyId(publicKey);
        this.issuer = issuer;
        this.audience = audience;
        this.lifetime = lifetime;
        this.clock = clock;
    }

    public static IdentityTokenIssuer fromConfig(IdentityConfig config) {
        String priv = config.privateKeyLocation().orElseThrow(() -> new IllegalStateException(
                "mlinfra.identity.private-key-location is not set: the gateway needs the private key to sign identity tokens"));
        String pub = config.publicKeyLocation().orElseThrow(() -> new IllegalStateException(
                "mlinfra.identity.public-key-location is not set"));
        return new IdentityTokenIssuer(PemKeys.readPrivate(priv), PemKeys.readPublic(pub), config.issuer(),
                config.audience(), config.tokenLifetime(), Clock.systemUTC());
    }

    public Token issue(Identity identity) {
        Instant now = clock.instant();
        Instant expires = now.plus(lifetime);
        JwtClaims claims = new JwtClaims();
        claims.setIssuer(issuer);
        claims.setAudience(audience);
        claims.setSubject(identity.keyId());
        claims.setJwtId(UUID.randomUUID().toString());
        claims.setIssuedAt(NumericDate.fromSeconds(now.getEpochSecond()));
        claims.setExpirationTime(NumericDate.fromSeconds(expires.getEpochSecond()));
        claims.setClaim(IdentityTokens.CLAIM_KEY_ID, identity.keyId());
        claims.setClaim(IdentityTokens.CLAIM_TEAM, identity.team());
        claims.setStringListClaim(IdentityTokens.CLAIM_SCOPES, List.copyOf(identity.scopes()));
        JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(claims.toJson());
        jws.setKey(privateKey);
        jws.setKeyIdHeaderValue(keyId);
        jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.RSA_USING_SHA256);
        try {
            return new Token(jws.getCompactSerialization(), expires);
        } catch (JoseException e) {
            throw new IllegalStateException("Cannot sign identity token", e);
        }
    }
}
