package dev.mlinfra.commons.http;

import io.vertx.core.http.HttpServerRequest;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Request lines and paths as logs may keep them: credentials a client put into the URL (a query
 * parameter such as {@code ?x-api-key=...}, or anything shaped like an API key, in the path too)
 * are replaced by {@link #MARKER}. Headers are never logged, so {@code Authorization} and
 * {@code x-api-key} never reach a log line. And text shown to users without where the platform's
 * parts run ({@link #addresses}): that is for operators and logs.
 */
public final class Redaction {

    /** What a credential is replaced with. */
    public static final String MARKER = "[REDACTED]";

    /** Query parameters whose value is a credential, compared case-insensitively after percent-decoding. */
    static final Set<String> SECRET_PARAMETERS = Set.of("api_key", "api-key", "apikey", "x-api-key", "key", "token",
            "access_token", "refresh_token", "id_token", "client_secret", "password", "authorization", "auth", "sig",
            "pwd", "pass", "session", "jwt");
    /**
     * Parts of a parameter name that make its value a credential wherever they stand ({@code secret_key},
     * {@code aws_secret_access_key}, {@code X-Amz-Signature}, {@code X-Amz-Credential}, {@code db_password});
     * a name that ends in {@code token} is one too ({@code session_token}), while {@code max_tokens} is not.
     */
    static final List<String> SECRET_NAME_PARTS = List.of("secret", "password", "passwd",
            "signature", "credential", "api_key", "api-key", "apikey", "private_key", "private-key");

    /** An API key of ours ({@code mlk_<id>_<secret>}), also percent-encoded ({@code mlk%5F...}), wherever it stands. */
    private static final Pattern API_KEY = Pattern.compile("(?i)mlk(?:_|%5f)[a-z0-9_%-]*");

    /** What a network address is replaced with in text for users. */
    public static final String ADDRESS = "[address]";

    /**
     * A URL, an IPv4 address with its host name before it and its port after it, if any
     * ({@code localhost/127.0.0.1:5432}), an IPv6 address in brackets, a host with a port.
     */
    private static final Pattern NETWORK_ADDRESS = Pattern.compile(
            "\\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\\s,;)\"']+"
                    + "|(?:[\\w.-]*/)?\\b\\d{1,3}(?:\\.\\d{1,3}){3}(?::\\d{1,5})?\\b"
                    + "|\\[[0-9a-fA-F:.]+](?::\\d{1,5})?"
                    + "|\\b[a-zA-Z0-9][\\w.-]*:\\d{2,5}\\b");

    private Redaction() {
    }

    /**
     * {@code text} (a failure's message, say {@code Connection refused: /127.0.0.1:26485}) with its
     * network addresses replaced by {@link #ADDRESS}, for users who are not to learn where the
     * platform's parts run.
     */
    public static String addresses(String text) {
        return text == null ? null : NETWORK_ADDRESS.matcher(text).replaceAll(ADDRESS);
    }

    /** The request line ({@code GET /v1/datasets?... HTTP/1.1}) with its credentials redacted. */
    public static String requestLine(HttpServerRequest request) {
        return request.method().name() + " " + uri(request.uri()) + " " + protocol(request);
    }

    /** A request URI (path and query) with credentials redacted. */
    public static String uri(String uri) {
        if (uri == null) {
            return null;
        }
        int question = uri.indexOf('?');
        if (question < 0) {
            return path(uri);
        }
        StringBuilder out = new StringBuilder(uri.length()).append(path(uri.substring(0, question))).append('?');
        String[] parameters = uri.substring(question + 1).split("&", -1);
        for (int i = 0; i < parameters.length; i++) {
            if (i > 0) {
                out.append('&');
            }
            out.append(parameter(parameters[i]));
        }
        return out.toString();
    }

    /** A path (or any text bound for a log) with key-shaped values redacted. */
    public static String path(String path) {
        return path == null || !mayHoldKey(path) ? path : API_KEY.matcher(path).replaceAll(MARKER);
    }

    /** Whether {@code text} has "mlk" in any case, where every key starts: most lines do not, and skip the pattern. */
    private static boolean mayHoldKey(String text) {
        for (int i = text.length() - 3; i >= 0; i--) {
            char c = text.charAt(i);
            if ((c == 'm' || c == 'M') && text.regionMatches(true, i + 1, "lk", 0, 2)) {
                return true;
            }
        }
        return false;
    }

    private static String parameter(String parameter) {
        int equals = parameter.indexOf('=');
        String name = equals < 0 ? parameter : parameter.substring(0, equals);
        if (equals >= 0 && secret(decode(name).strip().toLowerCase(Locale.ROOT))) {
            return name + "=" + MARKER;
        }
        return path(parameter);
    }

    private static boolean secret(String name) {
        if (SECRET_PARAMETERS.contains(name) || name.endsWith("token")) {
            return true;
        }
        for (String part : SECRET_NAME_PARTS) {
            if (name.contains(part)) {
                return true;
            }
        }
        return false;
    }

    /** Percent-decoded, or as it is where an escape is malformed. */
    static String decode(String text) {
        if (text.indexOf('%') < 0 && text.indexOf('+') < 0) {
            return text;
        }
        try {
            return URLDecoder.decode(text, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException malformed) {
            return text;
        }
    }

    private static String protocol(HttpServerRequest request) {
        if (request.version() == null) {
            return "HTTP";
        }
        return switch (request.version()) {
            case HTTP_1_0 -> "HTTP/1.0";
            case HTTP_1_1 -> "HTTP/1.1";
            case HTTP_2 -> "HTTP/2";
        };
    }
}
