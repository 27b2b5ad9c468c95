package dev.mlinfra.gateway.auth;

import dev.mlinfra.commons.identity.IdentityConfig;
import io.quarkus.runtime.Startup;
import io.smallrye.jwt.util.KeyUtils;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;

/**
 * The gateway's identity keys: the current one signs tokens; every configured one (current, next,
 * retired) is published as a JWKS so services can verify tokens in flight during a rotation.
 */
@Startup
@ApplicationScoped
public class SigningKeys {

    static final String ALGORITHM = "RS256";

    private final String currentKeyId;
    private final PrivateKey currentKey;
    private final Map<String, RSAPublicKey> published;
    private final String jwks;

    public SigningKeys(IdentityConfig config) {
        this.currentKeyId = config.currentKey().orElseThrow(() -> new IllegalStateException(
                "mlinfra.identity.current-key is not set: the gateway needs the id of the key that signs identity tokens"));
        IdentityConfig.Key current = config.keys().get(currentKeyId);
        if (current == null) {
            throw new IllegalStateException("mlinfra.identity.current-key=" + currentKeyId
                    + " names no key under mlinfra.identity.keys (configured: " + config.keys().keySet() + ")");
        }
        String privateLocation = current.privateKeyLocation().orElseThrow(() -> new IllegalStateException(
                "mlinfra.identity.keys." + currentKeyId + ".private-key-location is not set: the current key signs tokens"));
        Map<String, RSAPublicKey> keys = new TreeMap<>();
        config.keys().forEach((kid, key) -> keys.put(kid, readPublic(key.publicKeyLocation())));
        this.published = Map.copyOf(keys);
        this.currentKey = readPrivate(privateLocation);
        if (currentKey instanceof RSAPrivateCrtKey crt && !crt.getModulus().equals(published.get(currentKeyId).getModulus())) {
            throw new IllegalStateException("The private and public key of identity key '" + currentKeyId + "' are not one pair");
        }
        this.jwks = toJwks(keys);
    }

    public String currentKeyId() {
        return currentKeyId;
    }

    public PrivateKey currentKey() {
        return currentKey;
    }

    /** The JWK set of every published key, as served at {@code /.well-known/jwks.json}. */
    public String jwks() {
        return jwks;
    }

    private static String toJwks(Map<String, RSAPublicKey> keys) {
        JsonArray list = new JsonArray();
        keys.forEach((kid, key) -> list.add(new JsonObject()
                .put("kty", "RSA")
                .put("use", "sig")
                .put("alg", ALGORITHM)
                .put("kid", kid)
                .put("n", base64Url(key.getModulus()))
                .put("e", base64Url(key.getPublicExponent()))));
        return new JsonObject().put("keys", list).encode();
    }

    /** RFC 7518: unsigned big-endian bytes, base64url without padding. */
    private static String base64Url(BigInteger value) {
        byte[] bytes = value.toByteArray();
        if (bytes.length > 1 && bytes[0] == 0) {
            bytes = Arrays.copyOfRange(bytes, 1, bytes.length);
        }
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static RSAPublicKey readPublic(String location) {
        try {
            return (RSAPublicKey) KeyUtils.decodePublicKey(read(location));
        } catch (GeneralSecurityException | ClassCastException e) {
            throw new IllegalStateException("Not an RSA public key in PEM form: " + location, e);
        }
    }

    private static PrivateKey readPrivate(String location) {
        try {
            return KeyUtils.decodePrivateKey(read(location));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Not a PKCS#8 RSA private key in PEM form: " + location, e);
        }
    }

    private static String read(String location) {
        try {
            return Files.readString(Path.of(location));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read key file " + location, e);
        }
    }
}
