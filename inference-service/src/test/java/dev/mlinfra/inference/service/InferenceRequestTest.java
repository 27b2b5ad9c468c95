package dev.mlinfra.inference.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.error.ApiException;
import org.junit.jupiter.api.Test;

class InferenceRequestTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String INPUT = "\"input\": {\"repository\": \"r\", \"issue_title\": \"t\", \"issue_description\": \"d\"}";

    private static InferenceRequest parse(String parameters) throws Exception {
        JsonNode body = JSON.readTree("{\"model_id\": \"m\", " + INPUT + ", \"parameters\": " + parameters + "}");
        return InferenceRequest.parse(body, 1024);
    }

    private static String refusal(String parameters) {
        return assertThrows(ApiException.class, () -> parse(parameters)).getMessage();
    }

    @Test
    void aWholeNumberTooLargeSaysItsRangeAndWhatWasSent() {
        assertEquals("Field 'parameters.seed' must be a whole number from -9223372036854775808 to 9223372036854775807,"
                + " got 99999999999999999999", refusal("{\"seed\": 99999999999999999999}"));
        assertEquals("Field 'parameters.top_k' must be a whole number from -2147483648 to 2147483647, got 3000000000",
                refusal("{\"top_k\": 3000000000}"));
    }

    @Test
    void aValueOfAnotherTypeIsSaidBack() {
        assertEquals("Field 'parameters.seed' must be a whole number, got 1.5", refusal("{\"seed\": 1.5}"));
        assertEquals("Field 'parameters.max_tokens' must be a whole number, got '64'", refusal("{\"max_tokens\": \"64\"}"));
        assertEquals("Field 'parameters.temperature' must be a number, got an array", refusal("{\"temperature\": [1]}"));
        String longText = "x".repeat(500);
        String message = refusal("{\"top_p\": \"" + longText + "\"}");
        assertEquals(true, message.endsWith("...' (500 characters)"), message);
    }

    @Test
    void theLargestSeedIsTaken() throws Exception {
        assertEquals(Long.MAX_VALUE, parse("{\"seed\": 9223372036854775807}").parameters().seed());
        assertEquals(-1, parse("{\"top_k\": -1}").parameters().topK());
    }
}
