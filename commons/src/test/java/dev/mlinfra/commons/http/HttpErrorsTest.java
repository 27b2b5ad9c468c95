package dev.mlinfra.commons.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class HttpErrorsTest {

    @Test
    void aBodyInUtf8AndUncompressedIsReadable() {
        assertNull(HttpErrors.unreadableBody("application/json", null));
        assertNull(HttpErrors.unreadableBody("application/json; charset=utf-8", "identity"));
        assertNull(HttpErrors.unreadableBody("application/json;charset=\"UTF-8\"", ""));
        assertNull(HttpErrors.unreadableBody("application/json; charset=UTF8", null));
        assertNull(HttpErrors.unreadableBody(null, null));
        // a file is stored as sent and checked to be UTF-8 itself: a charset (some clients add one to every type) says nothing
        assertNull(HttpErrors.unreadableBody("application/octet-stream; charset=ISO-8859-1", null));
        assertNull(HttpErrors.unreadableBody("application/x-ndjson; charset=ISO-8859-1", null));
    }

    @Test
    void anotherCharsetOrACompressedBodyIsSaidSo() {
        assertEquals("Charset 'ISO-8859-1' is not supported; send the request body as UTF-8 (charset=utf-8, or no charset)",
                HttpErrors.unreadableBody("application/json; charset=ISO-8859-1", null));
        assertEquals("Charset 'utf-16' is not supported; send the request body as UTF-8 (charset=utf-8, or no charset)",
                HttpErrors.unreadableBody("application/problem+json;charset=\"utf-16\"", null));
        assertEquals("Content-Encoding 'gzip' is not supported; send the request body uncompressed",
                HttpErrors.unreadableBody("application/json", "gzip"));
        assertEquals("Charset 'latin1' is not supported; send the request body as UTF-8 (charset=utf-8, or no charset)",
                HttpErrors.unreadableBody("text/csv; charset=latin1", null));
        assertEquals("Content-Encoding 'gzip' is not supported; send the request body uncompressed",
                HttpErrors.unreadableBody("application/octet-stream", "gzip"));
        assertEquals("Content-Encoding 'br' is not supported; send the request body uncompressed",
                HttpErrors.unreadableBody(null, " br "));
    }
}
