package dev.mlinfra.gateway.error;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.error.ErrorCode;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class OpenAiErrorTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode error(ErrorCode code, String message) {
        String json = OpenAiError.of(code, message).toJson();
        try {
            return JSON.readTree(json).get("error");
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }

    private static String text(JsonNode error, String field) {
        return error.path(field).asText();
    }

    @Test
    void anInvalidKeyIsAnInvalidRequestWithTheInvalidApiKeyCode() {
        JsonNode error = error(ErrorCode.UNAUTHORIZED, "Invalid or revoked API key");
        assertEquals("Invalid or revoked API key", text(error, "message"));
        assertEquals("invalid_request_error", text(error, "type"));
        assertEquals("invalid_api_key", text(error, "code"));
        assertTrue(error.has("param") && error.get("param").isNull(), error.toString());
        assertEquals(4, error.size(), error.toString());
    }

    @Test
    void aRateLimitIsOfTypeRequests() {
        JsonNode error = error(ErrorCode.RATE_LIMIT_EXCEEDED, "slow down");
        assertEquals("requests", text(error, "type"));
        assertEquals("rate_limit_exceeded", text(error, "code"));
    }

    @Test
    void gatewayFailuresAreServerErrorsAndOtherRefusalsInvalidRequests() {
        assertEquals("server_error", text(error(ErrorCode.BAD_GATEWAY, "x"), "type"));
        assertEquals("bad_gateway", text(error(ErrorCode.BAD_GATEWAY, "x"), "code"));
        assertEquals("server_error", text(error(ErrorCode.SERVICE_UNAVAILABLE, "x"), "type"));
        assertEquals("gateway_timeout", text(error(ErrorCode.GATEWAY_TIMEOUT, "x"), "code"));
        assertEquals("invalid_request_error", text(error(ErrorCode.FORBIDDEN, "x"), "type"));
        assertEquals("forbidden", text(error(ErrorCode.FORBIDDEN, "x"), "code"));
        assertEquals("payload_too_large", text(error(ErrorCode.PAYLOAD_TOO_LARGE, "x"), "code"));
    }

    @Test
    void messagesAreEscapedAsJson() {
        assertEquals("a \"quoted\"\\\nline\u0001", text(error(ErrorCode.FORBIDDEN, "a \"quoted\"\\\nline\u0001"), "message"));
    }
}
