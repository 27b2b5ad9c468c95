package dev.mlinfra.commons.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.json.JsonSetup;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A retry is known by its body, whatever the order its client wrote the fields in. */
class IdempotencyKeysTest {

    private final ObjectMapper json = JsonSetup.apply(new ObjectMapper());

    @Test
    void theSameBodyInAnotherFieldOrderHasTheSameFingerprintAndAnotherBodyAnother() throws Exception {
        Object first = json.readValue("{\"model_id\": \"m\", \"metrics\": {\"f1\": 0.8, \"accuracy\": 0.9}, \"tags\": [\"a\", \"b\"]}",
                Map.class);
        Object reordered = json.readValue("{\"tags\": [\"a\", \"b\"], \"metrics\": {\"accuracy\": 0.9, \"f1\": 0.8}, \"model_id\": \"m\"}",
                Map.class);
        assertEquals(IdempotencyKeys.fingerprint(json, first), IdempotencyKeys.fingerprint(json, reordered));
        Map<String, Object> other = new LinkedHashMap<>();
        other.put("model_id", "m");
        other.put("metrics", Map.of("f1", 0.8, "accuracy", 0.9));
        other.put("tags", List.of("b", "a"));
        assertNotEquals(IdempotencyKeys.fingerprint(json, first), IdempotencyKeys.fingerprint(json, other), "a list's order counts");
    }
}
