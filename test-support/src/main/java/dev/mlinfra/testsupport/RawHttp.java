package dev.mlinfra.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** HTTP/1.1 on a socket, for what the usual clients do not send. */
public final class RawHttp {

    private RawHttp() {
    }

    /** A status and what follows the head (a chunked body keeps its chunk sizes: enough to look for fields). */
    public record Answer(int status, String body) {
    }

    /**
     * POSTs {@code body} without a Content-Length (chunks of 64 KiB) and reads the answer while it sends:
     * a refusal may come before the whole body, and the server then closes the connection, so the
     * sending may fail; what was answered until then is kept.
     */
    public static Answer postChunked(String host, int port, String path, Map<String, String> headers, byte[] body)
            throws IOException, InterruptedException {
        try (Socket socket = new Socket(host, port)) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            StringBuilder head = new StringBuilder("POST ").append(path).append(" HTTP/1.1\r\nHost: ").append(host)
                    .append("\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n");
            headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
            head.append("\r\n");
            Thread sender = Thread.ofVirtual().start(() -> {
                try {
                    out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
                    for (int at = 0; at < body.length; at += 65536) {
                        int n = Math.min(65536, body.length - at);
                        out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                        out.write(body, at, n);
                        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                    out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (IOException e) {
                    // answered and closed before the whole body
                }
            });
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            try {
                for (int n; (n = socket.getInputStream().read(buffer)) > 0;) {
                    answer.write(buffer, 0, n);
                }
            } catch (SocketException e) {
                // reset after the answer: the rest of the body was not read
            }
            sender.join(30_000);
            String text = answer.toString(StandardCharsets.UTF_8);
            if (!text.startsWith("HTTP/1.1 ")) {
                throw new IOException("no answer to POST " + path + ": '" + text + "'");
            }
            int split = text.indexOf("\r\n\r\n");
            return new Answer(Integer.parseInt(text.substring(9, 12)), split < 0 ? "" : text.substring(split + 4));
        }
    }
}
