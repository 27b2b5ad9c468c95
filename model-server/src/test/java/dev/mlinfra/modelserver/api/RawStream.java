package dev.mlinfra.modelserver.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** A streamed request over a plain socket, so that the test can hang up in the middle of it. */
final class RawStream implements AutoCloseable {
    /** Greedy decoding of this prompt never meets an end token: it generates until the context is full. */
    static final String ENDLESS_PROMPT = "Write a long story.";
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Socket socket;
    private final BufferedReader in;

    RawStream(URI server, String path, Map<String, Object> body) throws Exception {
        socket = new Socket(server.getHost(), server.getPort());
        socket.setSoTimeout(60_000);
        byte[] json = JSON.writeValueAsBytes(body);
        OutputStream out = socket.getOutputStream();
        out.write(("POST " + path + " HTTP/1.1\r\nHost: " + server.getHost() + ":" + server.getPort()
                + "\r\nContent-Type: application/json\r\nContent-Length: " + json.length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.write(json);
        out.flush();
        in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        String status = in.readLine();
        assertEquals("HTTP/1.1 200 OK", status);
    }

    /**
     * A streamed completion of {@link #ENDLESS_PROMPT} that runs until the context is full (its 1,024
     * tokens, the base model's whole context, are more than the prompt leaves room for), longer than
     * any test waits.
     */
    static Map<String, Object> endlessCompletion() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("prompt", ENDLESS_PROMPT);
        body.put("max_tokens", 1024);
        body.put("temperature", 0);
        body.put("stream", true);
        return body;
    }

    /** The next server-sent event's JSON. */
    JsonNode nextEvent() throws Exception {
        String line;
        while ((line = in.readLine()) != null) {
            if (line.startsWith("data: ")) {
                return JSON.readTree(line.substring("data: ".length()));
            }
        }
        throw new AssertionError("the stream ended without an event");
    }

    @Override
    public void close() throws Exception {
        socket.close();
    }
}
