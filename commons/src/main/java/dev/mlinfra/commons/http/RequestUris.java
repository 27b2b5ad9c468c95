package dev.mlinfra.commons.http;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * Whether a request's path and query form a URI (RFC 3986, as {@link URI} reads it). Quarkus' HTTP
 * layer makes this check itself and answers a failing request with an empty 400 before any
 * handler runs; where that check is turned off ({@code -Dvertx.disableURIValidation=true}, as the
 * gateway does), the platform makes it and answers with the error object.
 */
public final class RequestUris {

    private RequestUris() {
    }

    /** What is wrong with the path and query, for the caller, or null where they are a URI. */
    public static String problem(String uri) {
        if (uri == null || uri.isEmpty()) {
            return "The request has no path; the API is under /v1/";
        }
        try {
            new URI(uri);
            return null;
        } catch (URISyntaxException e) {
            return "The request's path and query are not a valid URI: " + e.getReason().toLowerCase(Locale.ROOT)
                    + (e.getIndex() >= 0 ? " at character " + (e.getIndex() + 1) : "")
                    + "; percent-encode reserved characters in values (%25 for '%', %20 for a space, %23 for '#')";
        }
    }
}
