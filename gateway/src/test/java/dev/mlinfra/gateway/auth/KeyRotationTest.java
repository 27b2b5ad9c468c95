package dev.mlinfra.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.commons.identity.IdentityConfig;
import io.smallrye.jwt.auth.principal.DefaultJWTParser;
import io.smallrye.jwt.auth.principal.JWTAuthContextInfo;
import io.smallrye.jwt.auth.principal.ParseException;
import io.smallrye.jwt.util.KeyUtils;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.eclipse.microprofile.jwt.JsonWebToken;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rotation as docs/IDENTITY.md describes it, with the key set each step publishes and the
 * verification the services run (SmallRye JWT against that JWKS, issuer and audience checked).
 */
class KeyRotationTest {

    private static final Identity CALLER = new Identity("key-1", "team-a", Set.of("read", "write"));

    @TempDir
    static Path dir;
    private static Map<String, String> oldKey;
    private static Map<String, String> newKey;

    @BeforeAll
    static void keys() throws Exception {
        oldKey = write("old", KeyUtils.generateKeyPair(2048));
        newKey = write("new", KeyUtils.generateKeyPair(2048));
    }

    @Test
    void tokensOfTheOldAndTheNewKeyAreBothAcceptedUntilTheOldKeyIsRetired() throws Exception {
        SigningKeys before = keys("old", Map.of("old", oldKey));
        SigningKeys nextPublished = keys("old", Map.of("old", oldKey, "new", newKey));
        SigningKeys switched = keys("new", Map.of("old", oldKey, "new", newKey));
        SigningKeys retired = keys("new", Map.of("new", newKey));

        String signedByOld = mint(nextPublished).tokenFor(CALLER);
        String signedByNew = mint(switched).tokenFor(CALLER);
        assertEquals("old", keyIdOf(signedByOld));
        assertEquals("new", keyIdOf(signedByNew));

        // services that fetched the key set after the next key was published know it before it signs
        assertAccepted(nextPublished, signedByOld);
        assertAccepted(nextPublished, signedByNew);
        // both in flight after the switch
        assertAccepted(switched, signedByOld);
        assertAccepted(switched, signedByNew);
        // retired: the old key's tokens are refused, the new key's still pass
        assertRefused(retired, signedByOld);
        assertAccepted(retired, signedByNew);
        // a service still on the key set from before the rotation cannot verify the new key
        assertRefused(before, signedByNew);
    }

    @Test
    void theKeySetListsEveryPublishedKeyWithItsIdAndNoPrivatePart() {
        JsonObject jwks = new JsonObject(keys("new", Map.of("old", oldKey, "new", newKey)).jwks());

        assertEquals(2, jwks.getJsonArray("keys").size());
        for (Object entry : jwks.getJsonArray("keys")) {
            JsonObject key = (JsonObject) entry;
            assertTrue(Set.of("old", "new").contains(key.getString("kid")), key.encode());
            assertEquals("RSA", key.getString("kty"));
            assertEquals("RS256", key.getString("alg"));
            assertEquals(Set.of("kty", "use", "alg", "kid", "n", "e"), key.fieldNames());
        }
    }

    @Test
    void refusesToStartWithoutAUsableCurrentKey() {
        assertThrows(IllegalStateException.class, () -> keys("missing", Map.of("old", oldKey)));
        Map<String, String> publicOnly = Map.of("public-key-location", newKey.get("public-key-location"));
        assertThrows(IllegalStateException.class, () -> keys("new", Map.of("new", publicOnly)));
        Map<String, String> mismatched = Map.of("public-key-location", newKey.get("public-key-location"),
                "private-key-location", oldKey.get("private-key-location"));
        assertThrows(IllegalStateException.class, () -> keys("new", Map.of("new", mismatched)));
    }

    private static void assertAccepted(SigningKeys publishedBy, String token) throws ParseException {
        JsonWebToken verified = verifier(publishedBy).parse(token);
        assertEquals("key-1", verified.getSubject());
        assertEquals(Set.of("read", "write"), verified.getGroups());
        assertEquals("team-a", String.valueOf(verified.<Object>getClaim("team")));
    }

    private static void assertRefused(SigningKeys publishedBy, String token) {
        assertThrows(ParseException.class, () -> verifier(publishedBy).parse(token));
    }

    private static DefaultJWTParser verifier(SigningKeys publishedBy) {
        JWTAuthContextInfo verification = new JWTAuthContextInfo();
        verification.setPublicKeyContent(publishedBy.jwks());
        verification.setIssuedBy("mlinfra-gateway");
        verification.setExpectedAudience(Set.of("mlinfra-services"));
        return new DefaultJWTParser(verification);
    }

    private static String keyIdOf(String token) {
        String header = new String(Base64.getUrlDecoder().decode(token.substring(0, token.indexOf('.'))), StandardCharsets.UTF_8);
        return new JsonObject(header).getString("kid");
    }

    private static TokenMint mint(SigningKeys keys) {
        // no cache: every call signs
        return new TokenMint(config("unused", Map.of()), keys, null);
    }

    private static SigningKeys keys(String current, Map<String, Map<String, String>> keys) {
        return new SigningKeys(config(current, keys));
    }

    private static IdentityConfig config(String current, Map<String, Map<String, String>> keys) {
        Map<String, IdentityConfig.Key> configured = new LinkedHashMap<>();
        keys.forEach((kid, files) -> configured.put(kid, new IdentityConfig.Key() {
            @Override
            public String publicKeyLocation() {
                return files.get("public-key-location");
            }

            @Override
            public Optional<String> privateKeyLocation() {
                return Optional.ofNullable(files.get("private-key-location"));
            }
        }));
        return new IdentityConfig() {
            @Override
            public boolean verify() {
                return false;
            }

            @Override
            public String issuer() {
                return "mlinfra-gateway";
            }

            @Override
            public String audience() {
                return "mlinfra-services";
            }

            @Override
            public Duration tokenLifetime() {
                return Duration.ofMinutes(5);
            }

            @Override
            public Optional<String> currentKey() {
                return Optional.of(current);
            }

            @Override
            public Map<String, Key> keys() {
                return configured;
            }
        };
    }

    private static Map<String, String> write(String name, KeyPair pair) throws IOException {
        Path publicKey = dir.resolve(name + "-public.pem");
        Path privateKey = dir.resolve(name + "-private.pem");
        Files.writeString(publicKey, pem("PUBLIC KEY", pair.getPublic().getEncoded()));
        Files.writeString(privateKey, pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
        return Map.of("public-key-location", publicKey.toString(), "private-key-location", privateKey.toString());
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
