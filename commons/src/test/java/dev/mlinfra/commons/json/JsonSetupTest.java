package dev.mlinfra.commons.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.error.ErrorMappers;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Timestamps are UTC with second precision, whichever module the application registers last; a
 * value of another JSON type than its field's is refused, not converted.
 */
class JsonSetupTest {

    record Config(int epochs, Integer maxSteps, double learningRate, Boolean useLora, String name) {
    }

    private static final Instant WITH_MICROS = Instant.parse("2026-12-05T04:37:30.346565Z");

    @Test
    void anInstantIsWrittenToTheSecond() throws Exception {
        ObjectMapper alone = JsonSetup.apply(new ObjectMapper());
        assertEquals("{\"at\":\"2026-12-05T04:37:30Z\"}", alone.writeValueAsString(Map.of("at", WITH_MICROS)));
    }

    @Test
    void theJavaTimeModuleRegisteredAfterwardsWritesItToTheSecondToo() throws Exception {
        ObjectMapper mapper = JsonSetup.apply(new ObjectMapper()).registerModule(new JavaTimeModule());
        assertEquals("{\"at\":\"2026-12-05T04:37:30Z\"}", mapper.writeValueAsString(Map.of("at", WITH_MICROS)));
    }

    @Test
    void valuesOfTheirOwnTypeAreRead() throws Exception {
        ObjectMapper mapper = JsonSetup.apply(new ObjectMapper());
        assertEquals(new Config(3, 20, 2.0, true, "five"), mapper.readValue(
                "{\"epochs\":3,\"max_steps\":20,\"learning_rate\":2,\"use_lora\":true,\"name\":\"five\"}", Config.class));
    }

    @Test
    void aValueOfAnotherTypeIsRefusedNotConverted() {
        ObjectMapper mapper = JsonSetup.apply(new ObjectMapper());
        for (String body : new String[] {"{\"epochs\":3.9}", "{\"max_steps\":2.5}", "{\"epochs\":\"2\"}",
                "{\"learning_rate\":\"0.1\"}", "{\"use_lora\":1}", "{\"use_lora\":\"true\"}", "{\"name\":5}",
                "{\"name\":2.5}", "{\"name\":false}", "{\"learning_rate\":\"NaN\"}", "{\"learning_rate\":\"Infinity\"}",
                "{\"learning_rate\":\"-Infinity\"}", "{\"learning_rate\":null}"}) {
            assertThrows(MismatchedInputException.class, () -> mapper.readValue(body, Config.class), body);
        }
    }

    record Texts(String name, java.util.List<String> tags, Map<String, String> labels) {
    }

    @Test
    void halfOfASurrogatePairIsRefusedNamingItsFieldAndWholeCharactersAreRead() throws Exception {
        ObjectMapper mapper = JsonSetup.apply(new ObjectMapper());
        assertEquals(new Texts("a\ud83d\ude00b", java.util.List.of("\u00e9"), Map.of("k", "v")),
                mapper.readValue("{\"name\":\"a\\ud83d\\ude00b\",\"tags\":[\"\\u00e9\"],\"labels\":{\"k\":\"v\"}}",
                        Texts.class));
        for (String body : new String[] {"{\"name\":\"a\\ud800b\"}", "{\"name\":\"\\ude00\"}",
                "{\"name\":\"x\\ud83d\"}", "{\"tags\":[\"ok\",\"\\udfff\"]}", "{\"labels\":{\"k\":\"\\ud800\"}}"}) {
            var refused = assertThrows(JsonSetup.UnpairedSurrogate.class, () -> mapper.readValue(body, Texts.class), body);
            assertEquals(true, ErrorMappers.describeJson(refused).startsWith("Invalid value for field '"),
                    ErrorMappers.describeJson(refused));
        }
        var refused = assertThrows(JsonSetup.UnpairedSurrogate.class,
                () -> mapper.readValue("{\"name\":\"a\\ud800b\"}", Texts.class));
        assertEquals("Invalid value for field 'name': the text holds \\ud800, half of a UTF-16 surrogate pair, which is no"
                + " character; send whole characters (as UTF-8, or both halves escaped)", ErrorMappers.describeJson(refused));
        assertThrows(MismatchedInputException.class, () -> mapper.readValue("{\"name\":5}", Texts.class));
    }

    record Weights(Double alpha, Float beta) {
    }

    @Test
    void theTextsNaNAndInfinityAreNoNumbersEither() throws Exception {
        ObjectMapper mapper = JsonSetup.apply(new ObjectMapper());
        for (String body : new String[] {"{\"alpha\":\"NaN\"}", "{\"alpha\":\"Infinity\"}", "{\"beta\":\"-Infinity\"}",
                "{\"beta\":\"1.5\"}"}) {
            MismatchedInputException e = assertThrows(MismatchedInputException.class, () -> mapper.readValue(body, Weights.class),
                    body);
            assertEquals(true, e.getOriginalMessage().startsWith("Cannot coerce String value (\""), e.getOriginalMessage());
        }
        assertEquals(new Weights(1.5, 2f), mapper.readValue("{\"alpha\":1.5,\"beta\":2}", Weights.class));
        assertEquals(new Weights(null, null), mapper.readValue("{\"alpha\":null}", Weights.class));
    }
}
