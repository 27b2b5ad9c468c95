package dev.mlinfra.inference.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mlinfra.inference.backend.BackendException.Kind;
import org.junit.jupiter.api.Test;

/** What a client is told of a backend failure leaves out where the servers run. */
class BackendExceptionTest {

    private static String told(String message) {
        return new BackendException(Kind.FAILED, 0, message, null).withoutAddresses();
    }

    @Test
    void serverAddressesAreLeftOutOfWhatClientsAreTold() {
        assertEquals("the server answered 500: CUDA out of memory",
                told("the server http://127.0.0.1:35867 answered 500: CUDA out of memory"));
        assertEquals("the stream from the server broke off: Connection was closed",
                told("the stream from the server http://model-server-scout.mlinfra.svc:8000 broke off: Connection was closed"));
        assertEquals("the server cannot be reached: Connection refused: (address left out)",
                told("the server http://127.0.0.1:35867 cannot be reached: Connection refused: localhost/127.0.0.1:35867"));
        assertEquals("the model answered: 12 tokens at 1.5 s", told("the model answered: 12 tokens at 1.5 s"));
    }
}
