package dev.mlinfra.gateway.error;

import dev.mlinfra.commons.error.ErrorCode;
import com.fasterxml.jackson.core.io.JsonStringEncoder;

/**
 * OpenAI's error object, {@code {"error": {"message", "type", "param", "code"}}}: what the OpenAI
 * SDKs parse into their typed exceptions. The HTTP status stays the contract's; the type and code
 * follow OpenAI's (invalid key: {@code invalid_request_error}/{@code invalid_api_key}, rate limit:
 * {@code requests}/{@code rate_limit_exceeded}, gateway failures: {@code server_error}), and
 * other codes keep the contract's name.
 */
public record OpenAiError(String message, String type, String code) {

    static final String INVALID_REQUEST_ERROR = "invalid_request_error";
    static final String RATE_LIMIT_TYPE = "requests";
    static final String SERVER_ERROR = "server_error";

    public static OpenAiError of(ErrorCode code, String message) {
        return switch (code) {
            case UNAUTHORIZED -> new OpenAiError(message, INVALID_REQUEST_ERROR, "invalid_api_key");
            case RATE_LIMIT_EXCEEDED -> new OpenAiError(message, RATE_LIMIT_TYPE, code.code());
            default -> new OpenAiError(message, code.status() >= 500 ? SERVER_ERROR : INVALID_REQUEST_ERROR, code.code());
        };
    }

    /**
     * The object as JSON text, written by hand like the contract's: the shared mapper leaves out
     * null fields, and OpenAI's object always carries {@code param}.
     */
    public String toJson() {
        return "{\"error\":{\"message\":" + quote(message) + ",\"type\":" + quote(type) + ",\"param\":null,\"code\":"
                + quote(code) + "}}";
    }

    private static String quote(String s) {
        return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(s)) + "\"";
    }
}
