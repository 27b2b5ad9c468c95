package dev.mlinfra.gateway.http;

import dev.mlinfra.commons.error.ErrorCode;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import java.util.Map;

/**
 * What a request may weigh before its body, so that the services behind take what the gateway
 * passes on. They read a request line of up to 4096 bytes and 20 KiB of headers (the HTTP layer's
 * defaults), and refuse more with an empty answer; the gateway reads more than that (64 KiB each,
 * {@code quarkus.http.limits.*}) and refuses, with the error object, what would not fit there once
 * it has added the caller's identity token. And a body for the gateway's own endpoints larger
 * than they take, which the HTTP layer too would refuse with an empty answer.
 */
final class RequestSize {

    /** A path and query longer than this do not fit a service's request line. */
    static final int MAX_URI_LENGTH = 4000;
    /** Headers larger than this, with the identity token and forwarding headers added, do not fit a service's. */
    static final int MAX_HEADER_BYTES = 16 * 1024;
    /** The body of a request to the gateway's own endpoints (the admin API's small JSON objects). */
    static final long MAX_LOCAL_BODY_BYTES = 1024 * 1024;

    private RequestSize() {
    }

    /** A refusal of the request's size, or null where it fits. */
    static Refusal check(HttpServerRequest request) {
        String uri = request.uri();
        if (uri.length() > MAX_URI_LENGTH) {
            return new Refusal(ErrorCode.URI_TOO_LONG, "The request's path and query are " + uri.length()
                    + " characters long; at most " + MAX_URI_LENGTH + " are accepted (send long values in a request body)");
        }
        int bytes = 0;
        for (Map.Entry<String, String> header : request.headers()) {
            // "name: value" and its line end, as on the wire
            bytes += header.getKey().length() + header.getValue().length() + 4;
        }
        if (bytes > MAX_HEADER_BYTES) {
            return new Refusal(ErrorCode.HEADERS_TOO_LARGE, "The request's headers are " + bytes + " bytes; at most "
                    + MAX_HEADER_BYTES + " are accepted (the API needs only the API key and the content type)");
        }
        return null;
    }

    /**
     * A refusal of a body for the gateway's own endpoints that says it is larger than they take, or
     * null; the HTTP layer would refuse it with an empty answer.
     */
    static Refusal checkLocalBody(HttpServerRequest request) {
        String declared = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        long length;
        try {
            length = declared == null ? 0 : Long.parseLong(declared.trim());
        } catch (NumberFormatException e) {
            return null;
        }
        return length <= MAX_LOCAL_BODY_BYTES ? null : new Refusal(ErrorCode.PAYLOAD_TOO_LARGE, "The request body is "
                + length + " bytes; this endpoint takes at most " + MAX_LOCAL_BODY_BYTES);
    }

    /** The refusal of a body of unknown length (chunked) for the gateway's own endpoints, once it is larger than they take. */
    static Refusal localBodyOver() {
        return new Refusal(ErrorCode.PAYLOAD_TOO_LARGE, "The request body is more than " + MAX_LOCAL_BODY_BYTES
                + " bytes; this endpoint takes at most " + MAX_LOCAL_BODY_BYTES);
    }

    record Refusal(ErrorCode code, String message) {
    }
}
