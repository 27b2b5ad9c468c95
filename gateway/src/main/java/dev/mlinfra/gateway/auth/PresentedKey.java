package dev.mlinfra.gateway.auth;

import java.util.List;
import java.util.Locale;

/**
 * The API key a request presents: in {@code x-api-key} (the contract) or as
 * {@code Authorization: Bearer <key>} (what the OpenAI SDKs send). Either header will do; both
 * are accepted when they hold the same key, and refused when they differ, since the gateway
 * cannot tell which one the caller meant to act as. A Bearer value shaped like a JWT (and not like
 * one of our keys) is a sign-in token: verified where sign-in with an OpenID Connect provider is on,
 * refused as such where it is off.
 */
public sealed interface PresentedKey {

    String API_KEY_HEADER = "x-api-key";
    String BEARER = "bearer";
    String KEY_PREFIX = "mlk_";

    /** A key to authenticate (its format is checked there). */
    record Key(String value) implements PresentedKey {
    }

    /** A Bearer JWT alone (no x-api-key), to verify as a token of an OpenID Connect provider. */
    record BearerToken(String value) implements PresentedKey {
    }

    /** No key to authenticate; the reason is the 401's message and never repeats what was sent. */
    record Refused(String reason) implements PresentedKey {
    }

    /**
     * The key of a request's headers, each header with all its values: one given twice with
     * different values is refused as two keys in the two headers are (which was meant, its order
     * cannot say); the same value twice is one.
     */
    static PresentedKey of(List<String> apiKeyHeaders, List<String> authorizationHeaders, boolean tokensAccepted) {
        for (List<String> values : List.of(apiKeyHeaders, authorizationHeaders)) {
            if (values.size() > 1 && values.stream().map(PresentedKey::nonBlank).distinct().count() > 1) {
                return new Refused("The " + (values == apiKeyHeaders ? API_KEY_HEADER : "Authorization") + " header is given "
                        + values.size() + " times with different values; send one API key");
            }
        }
        return of(apiKeyHeaders.isEmpty() ? null : apiKeyHeaders.get(0),
                authorizationHeaders.isEmpty() ? null : authorizationHeaders.get(0), tokensAccepted);
    }

    static PresentedKey of(String apiKeyHeader, String authorizationHeader) {
        return of(apiKeyHeader, authorizationHeader, false);
    }

    /** @param tokensAccepted whether sign-in tokens are verified (else a Bearer JWT is refused, saying why) */
    static PresentedKey of(String apiKeyHeader, String authorizationHeader, boolean tokensAccepted) {
        String header = nonBlank(apiKeyHeader);
        String bearer = null;
        String authorization = nonBlank(authorizationHeader);
        if (authorization != null) {
            int space = indexOfWhitespace(authorization);
            String scheme = space < 0 ? authorization : authorization.substring(0, space);
            if (scheme.toLowerCase(Locale.ROOT).equals(BEARER)) {
                bearer = space < 0 ? null : nonBlank(authorization.substring(space));
            } else if (header == null) {
                // Another scheme next to x-api-key is left alone (and is not forwarded); alone, it is no API key.
                return new Refused("Unsupported Authorization scheme: send the API key as 'Authorization: Bearer <key>'"
                        + " or in the x-api-key header");
            }
        }
        if (header != null && bearer != null && !header.equals(bearer)) {
            return new Refused("The x-api-key header and the Authorization: Bearer token hold different keys;"
                    + " send one API key, in either header or the same in both");
        }
        if (header == null && bearer != null && isJwt(bearer)) {
            return tokensAccepted ? new BearerToken(bearer)
                    : new Refused("This is a sign-in token (a JWT), and sign-in with an identity provider is not enabled"
                            + " here: send an API key, in the x-api-key header or as 'Authorization: Bearer <key>'");
        }
        String key = header != null ? header : bearer;
        if (key == null) {
            return new Refused("Missing API key: every request needs one, in the x-api-key header or as"
                    + " 'Authorization: Bearer <key>'");
        }
        return new Key(key);
    }

    /** Three base64url parts (a JWS in compact form); our keys ({@code mlk_...}) never are. */
    static boolean isJwt(String value) {
        if (value.startsWith(KEY_PREFIX)) {
            return false;
        }
        int dots = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '.') {
                dots++;
            } else if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
                return false;
            }
        }
        return dots == 2;
    }

    private static String nonBlank(String value) {
        if (value == null) {
            return null;
        }
        String stripped = value.strip();
        return stripped.isEmpty() ? null : stripped;
    }

    private static int indexOfWhitespace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isWhitespace(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }
}
