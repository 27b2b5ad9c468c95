package dev.mlinfra.commons.http;

import dev.mlinfra.commons.error.ApiException;
import dev.mlinfra.commons.error.ErrorBody;
import dev.mlinfra.commons.error.ErrorCode;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Locale;

/** Writes the contract's error object from Vert.x routes, where no JAX-RS mapper runs. */
public final class HttpErrors {

    /**
     * Routing-context key of a route's own way to answer errors (another shape than the contract's,
     * such as OpenAI's): failures below the route (a body over its limit) are answered with it too.
     */
    public static final String ERROR_WRITER = "mlinfra.error-writer";

    /**
     * A route's own way to answer an error; see {@link #ERROR_WRITER}. A bean of this type is the
     * service's way for failures that came before any of its routes ran (a path the HTTP layer's
     * handlers cannot read): the gateway's picks the shape by its route table.
     */
    @FunctionalInterface
    public interface ErrorWriter {
        void end(RoutingContext ctx, ErrorCode code, String message);
    }

    /** Answers with the route's own {@link ErrorWriter} where it set one, else with the contract's error object. */
    public static void endInRouteShape(RoutingContext ctx, ErrorCode code, String message) {
        ErrorWriter writer = ctx.get(ERROR_WRITER);
        if (writer != null) {
            writer.end(ctx, code, message);
        } else {
            end(ctx, code, message);
        }
    }

    private HttpErrors() {
    }

    public static void end(RoutingContext ctx, ErrorCode code, String message) {
        end(ctx.response(), code, message);
    }

    public static void end(HttpServerResponse response, ErrorCode code, String message) {
        if (response.ended() || response.closed()) {
            return;
        }
        if (response.headWritten()) {
            // Too late for an error object: cut the stream so the client sees a failed transfer.
            response.reset();
            return;
        }
        response.setStatusCode(code.status())
                .putHeader("content-type", "application/json")
                .end(ErrorBody.of(code, message).toJson());
    }

    /**
     * Refuses (406) a request whose {@code Accept} takes none of {@code types} (such as
     * {@code text/html}), as the JAX-RS paths refuse it; no Accept, or a wildcard, takes any.
     */
    public static void requireAcceptable(RoutingContext ctx, String... types) {
        String accept = ctx.request().getHeader("accept");
        if (accept == null || accept.isBlank()) {
            return;
        }
        for (var value : ctx.parsedHeaders().accept()) {
            if (value.weight() <= 0) {
                continue;
            }
            for (String type : types) {
                String[] parts = type.split("/", 2);
                if (("*".equals(value.component()) || parts[0].equalsIgnoreCase(value.component()))
                        && ("*".equals(value.subComponent()) || parts[1].equalsIgnoreCase(value.subComponent()))) {
                    return;
                }
            }
        }
        throw new ApiException(ErrorCode.NOT_ACCEPTABLE, "Cannot produce a response for Accept '" + accept + "'; accept "
                + String.join(" or ", types));
    }

    /**
     * {@code OPTIONS} on a path of Vert.x routes that take {@code method}: answered 200 with {@code Allow},
     * as the JAX-RS paths answer it ({@code AllowedMethods}). False for any other method.
     */
    public static boolean answerOptions(RoutingContext ctx, String method) {
        if (ctx.request().method() != HttpMethod.OPTIONS) {
            return false;
        }
        ctx.response().putHeader("Allow", allow(method)).setStatusCode(200).end();
        return true;
    }

    /**
     * The refusal of a method that a path of Vert.x routes does not take (where JAX-RS would answer
     * 405 itself): sets {@code Allow} to {@code method} and OPTIONS, and returns the error to answer with.
     */
    public static ApiException methodNotAllowed(RoutingContext ctx, String method) {
        ctx.response().putHeader("Allow", allow(method));
        return new ApiException(ErrorCode.METHOD_NOT_ALLOWED, "Method " + ctx.request().method() + " is not allowed on "
                + ctx.normalizedPath() + "; it takes " + allow(method));
    }

    /** As {@code Allow} says it for JAX-RS paths: sorted, OPTIONS included. */
    private static String allow(String method) {
        return method.compareTo("OPTIONS") < 0 ? method + ", OPTIONS" : "OPTIONS, " + method;
    }

    /**
     * Refuses (415) a body declared as anything but JSON ({@code application/json} or a
     * {@code +json} type), as JAX-RS endpoints that consume JSON do; a body without a declared type
     * is read as JSON.
     */
    public static void requireJson(RoutingContext ctx) {
        String declared = ctx.request().getHeader("content-type");
        if (declared != null && !declared.isBlank()) {
            int semicolon = declared.indexOf(';');
            String type = (semicolon < 0 ? declared : declared.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
            if (!type.equals("application/json") && !(type.startsWith("application/") && type.endsWith("+json"))) {
                throw new ApiException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, unsupportedJsonBody(declared));
            }
        }
        // JSON, then: as sent, or compressed, or in another charset
        ApiException unreadable = unreadableBody(ctx.request());
        if (unreadable != null) {
            throw unreadable;
        }
    }

    /**
     * Why a request body cannot be read as sent, or null: its type or encoding is given twice with
     * different values (400: which one holds is anybody's guess), it is compressed
     * ({@code Content-Encoding} other than identity), or declared in another charset than UTF-8,
     * which the API reads every body as (JSON parsed as UTF-8 would be refused as invalid, or read as
     * other text than sent) (415).
     */
    public static ApiException unreadableBody(HttpServerRequest request) {
        ApiException twice = bodyHeaderGivenTwice(request);
        if (twice != null || !hasBody(request)) {
            return twice;
        }
        String unreadable = unreadableBody(request.getHeader("content-type"), request.getHeader("content-encoding"));
        return unreadable == null ? null : new ApiException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, unreadable);
    }

    /** A 400 when a body's {@code Content-Type} or {@code Content-Encoding} is given twice with different values, else null. */
    public static ApiException bodyHeaderGivenTwice(HttpServerRequest request) {
        if (!hasBody(request)) {
            return null;
        }
        for (String header : List.of("Content-Type", "Content-Encoding")) {
            List<String> values = request.headers().getAll(header);
            if (values.size() > 1 && values.stream().map(v -> v.strip().toLowerCase(Locale.ROOT)).distinct().count() > 1) {
                return ApiException.badRequest("Header '" + header + "' is given " + values.size() + " times with different"
                        + " values (" + String.join(", ", values) + "); send it once");
            }
        }
        return null;
    }

    private static boolean hasBody(HttpServerRequest request) {
        String length = request.getHeader("content-length");
        // HTTP/2 may send a body of unknown length without either header
        return request.getHeader("transfer-encoding") != null || length != null && !length.strip().equals("0")
                || length == null && request.version() == HttpVersion.HTTP_2;
    }

    static String unreadableBody(String contentType, String contentEncoding) {
        if (contentEncoding != null && !contentEncoding.isBlank() && !contentEncoding.strip().equalsIgnoreCase("identity")) {
            return "Content-Encoding '" + contentEncoding.strip() + "' is not supported; send the request body uncompressed";
        }
        if (contentType == null) {
            return null;
        }
        // Only a body read as JSON text is decoded by its charset. A file (a dataset's, whatever its type) is
        // stored as sent and checked to be UTF-8 itself; some clients add a charset to every type.
        String type = contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        if (!type.equals("application/json") && !type.endsWith("+json") && !type.startsWith("text/")) {
            return null;
        }
        for (String parameter : contentType.split(";")) {
            int equals = parameter.indexOf('=');
            if (equals > 0 && parameter.substring(0, equals).strip().equalsIgnoreCase("charset")) {
                String charset = parameter.substring(equals + 1).strip().replace("\"", "");
                if (!charset.equalsIgnoreCase("utf-8") && !charset.equalsIgnoreCase("utf8")) {
                    return "Charset '" + charset + "' is not supported; send the request body as UTF-8 (charset=utf-8,"
                            + " or no charset)";
                }
            }
        }
        return null;
    }

    /** What a client is told when it sent a body of another type where JSON belongs. */
    public static String unsupportedJsonBody(String declared) {
        return "Content type '" + declared + "' is not supported here; send application/json";
    }
}
