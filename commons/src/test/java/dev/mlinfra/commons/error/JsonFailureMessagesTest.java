package dev.mlinfra.commons.error;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.json.JsonSetup;
import org.junit.jupiter.api.Test;

/** What a client is told about a body that cannot be read, with the exceptions Jackson really raises. */
class JsonFailureMessagesTest {

    record Request(String name, Integer count) {
    }

    record Wrapper(java.util.Map<String, Object> config) {
    }

    private final ObjectMapper mapper = JsonSetup.apply(new ObjectMapper());

    private String messageFor(String body, Class<?> type) {
        JsonProcessingException e = assertThrows(JsonProcessingException.class, () -> mapper.readValue(body, type));
        return ErrorMappers.describeJson(e);
    }

    @Test
    void aTruncatedBodyIsNotValidJsonAtTheEnd() {
        String message = messageFor("{\"name\":", Request.class);
        assertTrue(message.startsWith("Request body is not valid JSON at line 1, column 9: "), message);
        assertTrue(message.contains("end-of-input"), message);
        assertTrue(!message.contains("Source"), "no parser internals: " + message);
    }

    @Test
    void aBareWordIsNotValidJsonWhereItStands() {
        String message = messageFor("{\"name\": \"x\",\n \"count\": seven}", Request.class);
        assertTrue(message.startsWith("Request body is not valid JSON at line 2, column "), message);
        assertTrue(message.contains("seven"), message);
    }

    @Test
    void theParsersHintsAboutItsOwnSettingsAreLeftOut() {
        assertEquals("Request body is not valid JSON at line 1, column 14: Non-standard token 'NaN': it is not a JSON value",
                messageFor("{\"count\": NaN}", Request.class));
        String comment = messageFor("{\"count\": 1 /* one */}", Request.class);
        assertTrue(comment.startsWith("Request body is not valid JSON at line 1, column "), comment);
        assertTrue(!comment.contains("Feature") && !comment.contains("enable"), comment);
    }

    @Test
    void aNumberTooLargeForItsFieldSaysWhatTheFieldHolds() {
        assertEquals("Invalid value for field 'count': the number is out of the range this field holds (an integer of at most"
                + " 2147483647)", messageFor("{\"count\": 2147483648}", Request.class));
    }

    @Test
    void aBodyNestedTooDeeplySaysSoWithTheLimit() {
        String deep = "{\"a\":".repeat(5000) + "1" + "}".repeat(5000);
        String message = messageFor(deep, JsonNode.class);
        assertTrue(message.startsWith("Request body is nested deeper than 1000 levels of arrays and objects"), message);
    }

    @Test
    void aFieldGivenTwiceIsRefusedNotTheLastOneKept() {
        assertEquals("Field 'count' is given twice in the request body at line 1, column 21; give each field once",
                messageFor("{\"count\": 1, \"count\": 5}", Request.class));
        assertEquals("Field 'x.a' is given twice in the request body at line 1, column 19; give each field once",
                messageFor("{\"x\": {\"a\": 1, \"a\": 2}}", JsonNode.class));
        assertEquals("Field 'x[1].a' is given twice in the request body at line 1, column 24; give each field once",
                messageFor("{\"x\": [{}, {\"a\": 1, \"a\": 2}]}", JsonNode.class));
        assertEquals("Field 'x[0][0].a' is given twice in the request body at line 1, column 21; give each field once",
                messageFor("{\"x\": [[{\"a\": 1, \"a\": 2}]]}", JsonNode.class));
        // found while a nested value is bound, it is still said as the parser found it, with its path
        assertEquals("Field 'config.epochs' is given twice in the request body at line 1, column 34; give each field once",
                messageFor("{\"config\": {\"epochs\": 1, \"epochs\": 5}}", Wrapper.class));
    }

    @Test
    void aSecondValueAfterTheBodyIsRefusedNotIgnored() {
        assertEquals("Request body holds more than one JSON value: another starts at line 1, column 15; send one",
                messageFor("{\"name\": \"x\"} {\"count\": 1}", Request.class));
        assertEquals("Request body holds more than one JSON value: another starts at line 2, column 1; send one",
                messageFor("{\"a\": 1}\n[2]", JsonNode.class));
        assertEquals(new Request("x", null), assertDoesNotThrow(() -> mapper.readValue("{\"name\": \"x\"}\n  ", Request.class)));
    }

    @Test
    void fieldProblemsNameTheField() {
        assertEquals("Invalid value for field 'count': expected an integer, got 'many'",
                messageFor("{\"name\": \"x\", \"count\": \"many\"}", Request.class));
        assertEquals("Unknown field 'nme' in request body; known fields: count, name",
                messageFor("{\"nme\": \"x\"}", Request.class));
        assertEquals("Request body must be a JSON object", messageFor("[1, 2]", Request.class));
        assertEquals("Invalid value for field 'name': expected a string", messageFor("{\"name\": [1]}", Request.class));
        // Values of another JSON type are refused, not converted, and said back as sent.
        assertEquals("Invalid value for field 'count': expected an integer, got '2'",
                messageFor("{\"count\": \"2\"}", Request.class));
        assertEquals("Invalid value for field 'count': expected an integer, got 3.5", messageFor("{\"count\": 3.5}", Request.class));
        assertEquals("Invalid value for field 'name': expected a string, got 5", messageFor("{\"name\": 5}", Request.class));
        // A long text is cut short.
        String message = messageFor("{\"count\": \"" + "9".repeat(10_000) + "\"}", Request.class);
        assertTrue(message.endsWith("...' (10000 characters)") && message.length() < 200, message);
    }
}
