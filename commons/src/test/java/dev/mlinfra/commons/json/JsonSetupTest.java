package dev.mlinfra.commons.json;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Timestamps are UTC with second precision, whichever module the application registers last. */
class JsonSetupTest {

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
}
