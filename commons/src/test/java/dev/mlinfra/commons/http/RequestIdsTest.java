package dev.mlinfra.commons.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RequestIdsTest {

    @Test
    void freshIdsAreDistinctVersion4Uuids() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String id = RequestIds.acceptOrGenerate(null);
            UUID uuid = UUID.fromString(id);
            assertEquals(4, uuid.version(), id);
            assertEquals(2, uuid.variant(), id);
            assertEquals(uuid.toString(), id);
            seen.add(id);
        }
        assertEquals(10_000, seen.size());
    }

    @Test
    void aSaneOfferedIdIsKeptAndAHostileOneReplaced() {
        assertEquals("ci-run:42.7", RequestIds.acceptOrGenerate("ci-run:42.7"));
        String replaced = RequestIds.acceptOrGenerate("id\n\"injected\" 200");
        assertNotEquals("id\n\"injected\" 200", replaced);
        assertEquals(4, UUID.fromString(replaced).version());
        assertEquals(4, UUID.fromString(RequestIds.acceptOrGenerate("x".repeat(129))).version());
    }
}
