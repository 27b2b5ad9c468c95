package dev.mlinfra.commons.error;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import dev.mlinfra.commons.http.AllowedMethods;
import dev.mlinfra.commons.http.HttpErrors;
import dev.mlinfra.commons.http.RequestIds;
import dev.mlinfra.commons.json.JsonSetup;
import dev.mlinfra.commons.persistence.DatabaseErrors;
import io.quarkus.hibernate.validator.runtime.jaxrs.ResteasyReactiveViolationException;
import io.quarkus.vertx.http.runtime.CurrentVertxRequest;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.validation.ElementKind;
import jakarta.validation.Path;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.util.Comparator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * One mapper set for every failure a JAX-RS resource can meet, so clients always receive the
 * contract's error object with a message that names what to fix, and never a class name or a
 * stack trace.
 */
public class ErrorMappers {

    private static final Logger LOG = Logger.getLogger(ErrorMappers.class);
    /** Jackson's words for a text it does not convert to the field's type (JsonSetup). */
    private static final Pattern TEXT_NOT_CONVERTED = Pattern.compile("^Cannot coerce String value \\(\"(.*)\"\\) to ", Pattern.DOTALL);
    /** The longest text quoted back to a client in a message. */
    private static final int QUOTED_MAX = 80;

    private final CurrentVertxRequest request;
    private final AllowedMethods allowedMethods;

    public ErrorMappers(CurrentVertxRequest request, AllowedMethods allowedMethods) {
        this.request = request;
        this.allowedMethods = allowedMethods;
    }

    static Response respond(ErrorCode code, String message) {
        return Response.status(code.status())
                .type("application/json")
                .entity(ErrorBody.of(code, message))
                .build();
    }

    @ServerExceptionMapper
    public Response api(ApiException e) {
        Response r = respond(e.code(), e.getMessage());
        if (e.retryAfterSeconds() != null) {
            r.getHeaders().putSingle("Retry-After", Integer.toString(e.retryAfterSeconds()));
        }
        return r;
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e) {
        int status = e.getResponse() == null ? 500 : e.getResponse().getStatus();
        ErrorCode code = ErrorCode.forStatus(status);
        if (status >= 500) {
            return internal(e);
        }
        // The JSON body reader wraps what the parser found (malformed JSON, too deep) in a plain 400.
        if (e.getCause() instanceof JsonProcessingException json) {
            return json(json);
        }
        if (code == ErrorCode.METHOD_NOT_ALLOWED) {
            return methodNotAllowed();
        }
        return respond(code, describe(code, e));
    }

    /** 405 with {@code Allow}, which JAX-RS leaves out, and the message naming what the path takes. */
    private Response methodNotAllowed() {
        var ctx = request.getCurrent();
        String method = ctx == null ? "" : ctx.request().method().name();
        String path = ctx == null ? "" : ctx.normalizedPath();
        String allow = ctx == null ? null : allowedMethods.of(path);
        Response r = respond(ErrorCode.METHOD_NOT_ALLOWED, "Method " + method + " is not allowed on " + path
                + (allow == null ? "" : "; it takes " + allow));
        if (allow != null) {
            r.getHeaders().putSingle("Allow", allow);
        }
        return r;
    }

    private String describe(ErrorCode code, WebApplicationException e) {
        var ctx = request.getCurrent();
        String method = ctx == null ? "" : ctx.request().method().name();
        String path = ctx == null ? "" : ctx.normalizedPath();
        return switch (code) {
            case NOT_FOUND -> e.getClass() == jakarta.ws.rs.NotFoundException.class && isFrameworkMessage(e)
                    ? "No endpoint " + method + " " + path + " in API v1"
                    : e.getMessage();
            case UNSUPPORTED_MEDIA_TYPE -> HttpErrors.unsupportedJsonBody(header("content-type"));
            case NOT_ACCEPTABLE -> "Cannot produce a response for Accept '" + header("accept") + "'; accept application/json"
                    // the platform's event histories (GET .../events) stream as server-sent events too
                    + (path.endsWith("/events") ? " or text/event-stream" : "");
            default -> isFrameworkMessage(e) ? "Invalid request: " + code.code().replace('_', ' ') : e.getMessage();
        };
    }

    private static boolean isFrameworkMessage(WebApplicationException e) {
        String m = e.getMessage();
        // RESTEasy's own words: "HTTP 404 Not Found", or for a path below a resource that no method of it takes
        // (/v1/models/x/nope) "Unable to find matching target resource method"
        return m == null || m.startsWith("HTTP ") || m.startsWith("Unable to find matching target resource method");
    }

    private String header(String name) {
        var ctx = request.getCurrent();
        String value = ctx == null ? null : ctx.request().getHeader(name);
        return value == null ? "" : value;
    }

    @ServerExceptionMapper
    public Response violations(ConstraintViolationException e) {
        String message = e.getConstraintViolations().stream()
                .sorted(Comparator.comparing(v -> v.getPropertyPath().toString()))
                .map(ErrorMappers::describe)
                .collect(Collectors.joining("; "));
        return respond(ErrorCode.INVALID_REQUEST, "Invalid request: " + message);
    }

    @ServerExceptionMapper
    public Response resteasyViolations(ResteasyReactiveViolationException e) {
        boolean aboutResponse = e.getConstraintViolations().stream().anyMatch(v -> {
            for (Path.Node node : v.getPropertyPath()) {
                if (node.getKind() == ElementKind.RETURN_VALUE) {
                    return true;
                }
            }
            return false;
        });
        if (aboutResponse) {
            return internal(e);
        }
        return violations(e);
    }

    private static String describe(ConstraintViolation<?> v) {
        return "'" + fieldName(v.getPropertyPath()) + "' " + v.getMessage();
    }

    /** The field or parameter a violation is about, as the client spells it (snake_case, dotted). */
    static String fieldName(Path path) {
        StringBuilder parameter = new StringBuilder();
        StringBuilder properties = new StringBuilder();
        for (Path.Node node : path) {
            if (node.getKind() == ElementKind.PARAMETER) {
                parameter.setLength(0);
                parameter.append(node.getName());
            } else if (node.getKind() == ElementKind.PROPERTY || node.getKind() == ElementKind.CONTAINER_ELEMENT) {
                if (node.getName() == null) {
                    continue;
                }
                if (!properties.isEmpty()) {
                    properties.append('.');
                }
                properties.append(snake(node.getName()));
                if (node.getIndex() != null) {
                    properties.append('[').append(node.getIndex()).append(']');
                }
            }
        }
        return properties.isEmpty() ? snake(parameter.toString()) : properties.toString();
    }

    static String snake(String name) {
        StringBuilder b = new StringBuilder(name.length() + 4);
        for (char c : name.toCharArray()) {
            if (Character.isUpperCase(c)) {
                b.append('_').append(Character.toLowerCase(c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** Every failure to read a JSON body, whoever raised it: what is wrong, and where. */
    @ServerExceptionMapper
    public Response json(JsonProcessingException e) {
        if (e instanceof ValueInstantiationException v && v.getCause() instanceof ApiException api) {
            return api(api);
        }
        return respond(ErrorCode.INVALID_REQUEST, describeJson(e));
    }

    /** Quarkus maps this one itself (to an empty 400), so ours must be at least as specific. */
    @ServerExceptionMapper
    public Response mismatched(MismatchedInputException e) {
        return json(e);
    }

    /** {@code @RolesAllowed} refused: the key's scopes (the token's groups) lack the one this endpoint needs. */
    @ServerExceptionMapper
    public Response forbidden(io.quarkus.security.ForbiddenException e) {
        var ctx = request.getCurrent();
        String action = ctx == null ? "this action" : ctx.request().method() + " " + ctx.normalizedPath();
        return respond(ErrorCode.FORBIDDEN, "This API key lacks the scope needed for " + action);
    }

    /** No verified caller where an endpoint requires one (the identity filter normally answers first). */
    @ServerExceptionMapper({io.quarkus.security.UnauthorizedException.class,
            io.quarkus.security.AuthenticationFailedException.class})
    public Response unauthorized(RuntimeException e) {
        return respond(ErrorCode.UNAUTHORIZED, "No verified caller for this request; send it through the mlinfra gateway");
    }

    /** The message for a JSON body that could not be read, naming the field or the place in the text. */
    public static String describeJson(JsonProcessingException e) {
        return switch (e) {
            // a number too large for its field: said as such, with the largest the field holds
            case JsonMappingException m when m.getCause() instanceof InputCoercionException c && !jsonPath(m).isEmpty() ->
                    "Invalid value for field '" + jsonPath(m) + "': " + outOfRange(c);
            // what the parser found inside a value being bound (a nested object's field given twice, say)
            case JsonMappingException m when m.getCause() instanceof JsonParseException p -> describeJson(p);
            case JsonSetup.UnpairedSurrogate u -> (jsonPath(u).isEmpty() ? "Invalid text in request body"
                    : "Invalid value for field '" + jsonPath(u) + "'") + ": " + u.getOriginalMessage();
            case UnrecognizedPropertyException u -> "Unknown field '" + jsonPath(u) + "' in request body"
                    + (u.getKnownPropertyIds() == null || u.getKnownPropertyIds().isEmpty() ? ""
                            : "; known fields: " + u.getKnownPropertyIds().stream().map(String::valueOf).sorted()
                                    .collect(Collectors.joining(", ")));
            case InvalidFormatException f -> "Invalid value for field '" + jsonPath(f) + "': expected "
                    + typeName(f.getTargetType()) + ", got " + quoted(f.getValue());
            // {"a": 1}{"b": 2}: the second would have been dropped unread
            case MismatchedInputException m when m.getOriginalMessage() != null
                    && m.getOriginalMessage().startsWith("Trailing token") -> "Request body holds more than one JSON value:"
                            + " another starts" + where(m) + "; send one";
            case MismatchedInputException m -> jsonPath(m).isEmpty() ? "Request body must be a JSON object"
                    : "Invalid value for field '" + jsonPath(m) + "': expected " + typeName(m.getTargetType()) + sentText(m);
            case ValueInstantiationException v -> "Invalid request body" + (jsonPath(v).isEmpty() ? "" : " at '" + jsonPath(v) + "'")
                    + (v.getCause() instanceof IllegalArgumentException ? ": " + v.getCause().getMessage() : "");
            case JsonMappingException m -> jsonPath(m).isEmpty() ? "Request body does not match the expected JSON object"
                    : "Invalid value for field '" + jsonPath(m) + "'";
            case StreamConstraintsException c -> c.getMessage() != null && c.getMessage().contains("nesting depth")
                    ? "Request body is nested deeper than " + StreamReadConstraints.defaults().getMaxNestingDepth()
                            + " levels of arrays and objects" + where(c) + "; send a flatter body"
                    : "Request body holds a value larger than allowed" + where(c) + ": " + clean(c.getOriginalMessage());
            case JsonParseException p when p.getOriginalMessage() != null
                    && p.getOriginalMessage().startsWith("Duplicate field '") -> "Field '"
                            + duplicatePath(p) + "' is given twice in the request body" + where(p) + "; give each field once";
            default -> "Request body is not valid JSON" + where(e) + ": " + clean(e.getOriginalMessage());
        };
    }

    private static String outOfRange(InputCoercionException c) {
        Class<?> target = c.getTargetType();
        String largest = target == Integer.class || target == Integer.TYPE ? Integer.toString(Integer.MAX_VALUE)
                : target == Long.class || target == Long.TYPE ? Long.toString(Long.MAX_VALUE) : null;
        return largest == null ? "the number is out of the range this field holds"
                : "the number is out of the range this field holds (an integer of at most " + largest + ")";
    }

    private static String where(JsonProcessingException e) {
        return e.getLocation() == null || e.getLocation().getLineNr() < 1 ? ""
                : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
    }

    /** Jackson's message without its notes about the source ("[Source: REDACTED ...; line: 1, column: 2]"). */
    public static String clean(String message) {
        if (message == null) {
            return "unreadable input";
        }
        return message.replaceAll("\\[Source: [^;\\]]*; line: (\\d+), column: (\\d+)\\]", "line $1, column $2")
                .replaceAll("\\s*\\n.*", "")
                // the parser's hints about its own settings, which the client cannot change
                .replaceAll(": enable `[^`]*` to allow", ": it is not a JSON value")
                .replaceAll(" \\(not recognized as one since Feature '[^']*' not enabled for parser\\)", "");
    }

    @ServerExceptionMapper(priority = Integer.MAX_VALUE)
    public Response unexpected(Throwable e) {
        if (e instanceof IOException && "Request too large".equals(e.getMessage())) {
            // A body of unknown length (chunked) past quarkus.http.limits.max-body-size: the HTTP layer's
            // reader has answered 413 and closed the connection already; the client's mistake, no error here.
            LOG.infof("Request %s: its body was larger than this service takes (quarkus.http.limits.max-body-size);"
                    + " answered 413", requestId());
            return respond(ErrorCode.PAYLOAD_TOO_LARGE, "Request body is larger than this endpoint accepts");
        }
        if (DatabaseErrors.unstorableText(e)) {
            // the statement failed, so its transaction stored nothing
            return respond(ErrorCode.INVALID_REQUEST, "The request holds the NUL character (\\u0000) in a text or a"
                    + " name, which cannot be stored; remove it and send the request again");
        }
        return internal(e);
    }

    private Response internal(Throwable e) {
        String id = requestId();
        LOG.errorf(e, "Unexpected failure handling request %s", id);
        return respond(ErrorCode.INTERNAL_ERROR, "Internal error; quote request id " + id + " when reporting it");
    }

    private String requestId() {
        var ctx = request.getCurrent();
        Object id = ctx == null ? MDC.get(RequestIds.KEY) : ctx.get(RequestIds.KEY);
        return id == null ? "unknown" : id.toString();
    }

    /**
     * The path of a field given twice ({@code config.epochs}), from where the parser stood; its name
     * alone where the parser is not at hand.
     */
    private static String duplicatePath(JsonParseException p) {
        String message = p.getOriginalMessage();
        String name = message.substring("Duplicate field '".length(), message.lastIndexOf('\''));
        if (!(p.getProcessor() instanceof JsonParser parser)) {
            return name;
        }
        String path = name;
        for (JsonStreamContext c = parser.getParsingContext().getParent(); c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inArray()) {
                path = "[" + Math.max(0, c.getCurrentIndex()) + "]" + (path.startsWith("[") ? "" : ".") + path;
            } else if (c.getCurrentName() != null) {
                path = c.getCurrentName() + (path.startsWith("[") ? "" : ".") + path;
            }
        }
        return path;
    }

    private static String jsonPath(JsonMappingException e) {
        StringBuilder b = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                if (!b.isEmpty()) {
                    b.append('.');
                }
                b.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                b.append('[').append(ref.getIndex()).append(']');
            }
        }
        return b.toString();
    }

    private static String typeName(Class<?> type) {
        if (type == null) {
            return "a different type";
        }
        if (type == String.class || type.isEnum()) {
            return "a string";
        }
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
            return "an integer";
        }
        if (Number.class.isAssignableFrom(type) || type == double.class || type == float.class) {
            return "a number";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (java.util.Collection.class.isAssignableFrom(type) || type.isArray()) {
            return "an array";
        }
        return "an object";
    }

    /** A text sent where another type belongs ({@code "many"} for a number), as Jackson names it: ", got 'many'". */
    private static String sentText(MismatchedInputException m) {
        Matcher text = m.getOriginalMessage() == null ? null : TEXT_NOT_CONVERTED.matcher(m.getOriginalMessage());
        return text != null && text.find() ? ", got " + quoted(text.group(1)) : "";
    }

    /** A value as a message says it back: a text in quotes, cut short past 80 characters. */
    public static String quoted(Object value) {
        if (value instanceof String s) {
            return s.length() <= QUOTED_MAX ? "'" + s + "'" : "'" + s.substring(0, QUOTED_MAX) + "...' (" + s.length() + " characters)";
        }
        return String.valueOf(value);
    }
}
