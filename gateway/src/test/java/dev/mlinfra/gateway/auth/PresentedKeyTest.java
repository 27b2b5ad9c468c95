package dev.mlinfra.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PresentedKeyTest {

    private static final String KEY = "mlk_0123456789abcdef_" + "a".repeat(32);
    private static final String OTHER = "mlk_fedcba9876543210_" + "b".repeat(32);

    private static String key(PresentedKey presented) {
        return assertInstanceOf(PresentedKey.Key.class, presented).value();
    }

    private static String refusal(PresentedKey presented) {
        return assertInstanceOf(PresentedKey.Refused.class, presented).reason();
    }

    @Test
    void aHeaderGivenTwiceWithDifferentKeysIsRefusedWhateverTheirOrder() {
        assertEquals("The x-api-key header is given 2 times with different values; send one API key",
                refusal(PresentedKey.of(java.util.List.of(KEY, OTHER), java.util.List.of(), false)));
        assertEquals("The x-api-key header is given 2 times with different values; send one API key",
                refusal(PresentedKey.of(java.util.List.of(OTHER, KEY), java.util.List.of(), false)));
        assertEquals("The Authorization header is given 2 times with different values; send one API key",
                refusal(PresentedKey.of(java.util.List.of(), java.util.List.of("Bearer " + KEY, "Bearer " + OTHER), false)));
        // the same key twice is one key
        assertEquals(KEY, key(PresentedKey.of(java.util.List.of(KEY, " " + KEY), java.util.List.of("Bearer " + KEY), false)));
        assertEquals(KEY, key(PresentedKey.of(java.util.List.of(), java.util.List.of("Bearer " + KEY), false)));
    }

    @Test
    void theXApiKeyHeaderAloneIsTheKey() {
        assertEquals(KEY, key(PresentedKey.of(KEY, null)));
        assertEquals(KEY, key(PresentedKey.of("  " + KEY + " ", null)));
    }

    @Test
    void aBearerTokenAloneIsTheKeyWhateverTheCaseOfTheScheme() {
        assertEquals(KEY, key(PresentedKey.of(null, "Bearer " + KEY)));
        assertEquals(KEY, key(PresentedKey.of(null, "bearer " + KEY)));
        assertEquals(KEY, key(PresentedKey.of(null, "BEARER   " + KEY + "  ")));
        assertEquals(KEY, key(PresentedKey.of("", "Bearer " + KEY)));
    }

    @Test
    void aBearerTokenThatIsNoKeyIsStillPassedOnToBeRefusedAsAnInvalidKey() {
        assertEquals("sk-abc", key(PresentedKey.of(null, "Bearer sk-abc")));
    }

    @Test
    void theSameKeyInBothHeadersIsOneKey() {
        assertEquals(KEY, key(PresentedKey.of(KEY, "Bearer " + KEY)));
    }

    @Test
    void differentKeysInTheTwoHeadersAreRefused() {
        String reason = refusal(PresentedKey.of(KEY, "Bearer " + OTHER));
        assertTrue(reason.contains("different keys"), reason);
        assertFalse(reason.contains(KEY) || reason.contains(OTHER), "the refusal never repeats a key");
    }

    @Test
    void noKeyAtAllIsRefusedAsMissing() {
        assertTrue(refusal(PresentedKey.of(null, null)).startsWith("Missing API key"));
        assertTrue(refusal(PresentedKey.of("  ", null)).startsWith("Missing API key"));
        assertTrue(refusal(PresentedKey.of(null, "Bearer")).startsWith("Missing API key"));
        assertTrue(refusal(PresentedKey.of(null, "Bearer   ")).startsWith("Missing API key"));
    }

    @Test
    void anotherAuthorizationSchemeIsNoKeyButDoesNotSpoilAnXApiKey() {
        String reason = refusal(PresentedKey.of(null, "Basic dXNlcjpwYXNz"));
        assertTrue(reason.contains("Unsupported Authorization scheme"), reason);
        assertFalse(reason.contains("dXNlcjpwYXNz"));
        // a bare key without a scheme is not echoed back either
        assertFalse(refusal(PresentedKey.of(null, KEY)).contains(KEY));
        assertEquals(KEY, key(PresentedKey.of(KEY, "Basic dXNlcjpwYXNz")));
    }

    private static final String JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl";

    @Test
    void whereSignInIsOnABearerJwtAloneIsATokenToVerify() {
        assertEquals(JWT, assertInstanceOf(PresentedKey.BearerToken.class, PresentedKey.of(null, "Bearer " + JWT, true)).value());
        assertEquals(JWT, assertInstanceOf(PresentedKey.BearerToken.class, PresentedKey.of(null, "bearer  " + JWT, true)).value());
        // sign-in off: refused as a sign-in token, not as a key that is unknown; the token is not echoed
        String reason = refusal(PresentedKey.of(null, "Bearer " + JWT, false));
        assertTrue(reason.contains("sign-in with an identity provider is not enabled here"), reason);
        assertFalse(reason.contains(JWT), reason);
        // beside an x-api-key holding the same value it is a key like any other
        assertEquals(JWT, key(PresentedKey.of(JWT, "Bearer " + JWT, false)));
    }

    @Test
    void ourKeysAndOtherBearerValuesStayKeysWhereSignInIsOn() {
        assertEquals(KEY, key(PresentedKey.of(null, "Bearer " + KEY, true)));
        assertEquals("sk-abc", key(PresentedKey.of(null, "Bearer sk-abc", true)));
        assertEquals("a.b", key(PresentedKey.of(null, "Bearer a.b", true)));
        assertEquals("mlk_a.b.c", key(PresentedKey.of(null, "Bearer mlk_a.b.c", true)));
        assertEquals("a+b.c.d", key(PresentedKey.of(null, "Bearer a+b.c.d", true)));
    }

    @Test
    void aJwtNextToAnXApiKeyIsTwoDifferentCredentials() {
        String reason = refusal(PresentedKey.of(KEY, "Bearer " + JWT, true));
        assertTrue(reason.contains("different keys"), reason);
        assertFalse(reason.contains(JWT));
    }
}
