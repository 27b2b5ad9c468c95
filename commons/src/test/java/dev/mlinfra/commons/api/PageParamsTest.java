package dev.mlinfra.commons.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mlinfra.commons.error.ApiException;
import org.junit.jupiter.api.Test;

class PageParamsTest {

    @Test
    void readsDigitsAndDefaults() {
        assertEquals(new PageParams(10, 0), PageParams.parse(null, null));
        assertEquals(new PageParams(5, 20), PageParams.parse("5", "20"));
        assertEquals(new PageParams(100, 2147483647), PageParams.parse("100", "2147483647"));
    }

    @Test
    void refusesAnythingButDigitsInRange() {
        for (String raw : new String[] {" 5", "5 ", "+5", "5.0", "0x5", "five", "", "1e2", "５"}) {
            ApiException e = assertThrows(ApiException.class, () -> PageParams.parse(raw, null), "'" + raw + "'");
            assertEquals("Invalid query parameter 'limit': expected an integer from 1 to 100, got '" + raw + "'", e.getMessage());
        }
        assertEquals("Invalid query parameter 'limit': expected an integer from 1 to 100, got 0",
                assertThrows(ApiException.class, () -> PageParams.parse("0", null)).getMessage());
        assertEquals("Invalid query parameter 'offset': expected an integer from 0 to 2147483647, got -1",
                assertThrows(ApiException.class, () -> PageParams.parse(null, "-1")).getMessage());
        assertEquals("Invalid query parameter 'offset': expected an integer from 0 to 2147483647, got 2147483648",
                assertThrows(ApiException.class, () -> PageParams.parse(null, "2147483648")).getMessage());
    }
}
