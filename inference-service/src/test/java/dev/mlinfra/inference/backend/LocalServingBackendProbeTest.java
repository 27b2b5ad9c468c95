package dev.mlinfra.inference.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.net.httpserver.HttpServer;
import dev.mlinfra.inference.backend.LocalServingBackend.Probe;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The local backend's health check takes a server for ready only when the process it started
 * answers: a port picked free can be bound by another process before the model server binds it,
 * and what answers there then is not the server (model-server's own test checks that it names its
 * process).
 */
class LocalServingBackendProbeTest {

    private static final long STARTED = 4242;

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private final AtomicInteger status = new AtomicInteger(200);
    private final AtomicReference<String> processId = new AtomicReference<>();
    private HttpServer server;
    private URI url;

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/health", exchange -> {
            if (processId.get() != null) {
                exchange.getResponseHeaders().add(LocalServingBackend.PROCESS_ID_HEADER, processId.get());
            }
            exchange.sendResponseHeaders(status.get(), -1);
            exchange.close();
        });
        server.start();
        url = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void theStartedServerIsReadyWhenItAnswers200() {
        processId.set(Long.toString(STARTED));
        assertEquals(Probe.READY, LocalServingBackend.probe(client, url, STARTED));
        status.set(503);
        assertEquals(Probe.NOT_YET, LocalServingBackend.probe(client, url, STARTED), "loading its base model");
    }

    @Test
    void anotherProcessOnThePortIsNeverTakenForTheServer() {
        processId.set(Long.toString(STARTED + 1));
        assertEquals(Probe.OTHER, LocalServingBackend.probe(client, url, STARTED), "another model server");
        processId.set(null);
        assertEquals(Probe.OTHER, LocalServingBackend.probe(client, url, STARTED), "a server that names no process");
        status.set(503);
        assertEquals(Probe.OTHER, LocalServingBackend.probe(client, url, STARTED));
    }

    @Test
    void nothingOnThePortYetIsNotReadyYet() {
        server.stop(0);
        assertEquals(Probe.NOT_YET, LocalServingBackend.probe(client, url, STARTED));
    }
}
