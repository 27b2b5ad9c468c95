package dev.mlinfra.commons.error;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.commons.persistence.DatabaseErrors;
import io.quarkus.vertx.http.runtime.CurrentVertxRequest;
import io.vertx.pgclient.PgException;
import jakarta.ws.rs.core.Response;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** The catch-all mapper: what no other mapper takes is a 500 with the error object, unless the database says the input was at fault. */
class ErrorMappersTest {

    private final ErrorMappers mappers = new ErrorMappers(new CurrentVertxRequest(), null);

    @Test
    void anUnexpectedFailureIsA500WithTheErrorObjectAndNoDetail() {
        Response r = mappers.unexpected(new IllegalStateException("the cache was closed"));
        assertEquals(500, r.getStatus());
        ErrorBody body = (ErrorBody) r.getEntity();
        assertEquals("internal_error", body.error().code());
        assertTrue(body.error().message().startsWith("Internal error; quote request id"), body.error().message());
        assertFalse(body.error().message().contains("cache"), body.error().message());
    }

    @Test
    void aPeerThatCannotAnswerIsA503WithRetryAfterTheBreakersDelay() {
        Response r = mappers.api(ApiException.peerUnavailable("dataset-service could not say whether dataset 'd' is ready"));
        assertEquals(503, r.getStatus());
        assertEquals("10", r.getHeaderString("Retry-After"));
        assertEquals("dataset-service could not say whether dataset 'd' is ready; retry in a moment",
                ((ErrorBody) r.getEntity()).error().message());
    }

    @Test
    void textTheDatabaseCannotStoreIsA400() {
        PgException nul = new PgException("invalid byte sequence for encoding \"UTF8\": 0x00", "ERROR", "22021", null);
        Response r = mappers.unexpected(new CompletionException(new RuntimeException("insert failed", nul)));
        assertEquals(400, r.getStatus());
        assertTrue(((ErrorBody) r.getEntity()).error().message().contains("NUL character"));
    }

    @Test
    void databaseErrorsAreToldByTheirStateThroughTheLayersAroundThem() {
        PgException duplicate = new PgException("duplicate key value violates unique constraint", "ERROR", "23505", null);
        assertTrue(DatabaseErrors.uniqueViolation(new CompletionException(duplicate)));
        assertFalse(DatabaseErrors.unstorableText(new CompletionException(duplicate)));
        assertFalse(DatabaseErrors.uniqueViolation(new IllegalStateException("no state at all")));
        assertFalse(DatabaseErrors.unstorableText(new IllegalStateException("no state at all")));
    }
}
