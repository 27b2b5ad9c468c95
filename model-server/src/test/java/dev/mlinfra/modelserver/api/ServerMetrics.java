package dev.mlinfra.modelserver.api;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Reads model-server's Prometheus text at {@code /metrics}. */
final class ServerMetrics {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private final String text;

    private ServerMetrics(String text) {
        this.text = text;
    }

    static ServerMetrics scrape(URI server) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(server.resolve("/metrics"))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new AssertionError("/metrics answered " + response.statusCode());
        }
        return new ServerMetrics(response.body());
    }

    /**
     * Waits up to 30 s until {@code name} (with {@code labels}) reads {@code expected}, and returns a
     * scrape begun after that. One scrape reads the meters one after another, so the scrape that saw
     * the gauge reach its value may hold a counter read before the server had moved it (a request
     * is counted before it leaves the batch's gauge).
     */
    static ServerMetrics await(URI server, double expected, String name, String... labels) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            ServerMetrics m = scrape(server);
            if (m.value(name, labels) == expected) {
                return scrape(server);
            }
            if (System.nanoTime() > deadline) {
                return m;
            }
            Thread.sleep(20);
        }
    }

    /** Whether a series of {@code name} is exposed. */
    boolean has(String name) {
        return text.lines().anyMatch(l -> l.startsWith(name + "{") || l.startsWith(name + " "));
    }

    /** The sum of the series of {@code name} whose labels include every {@code key="value"} of {@code labels}; 0 when none. */
    double value(String name, String... labels) {
        double sum = 0;
        for (String line : text.lines().toList()) {
            if (!(line.startsWith(name + "{") || line.startsWith(name + " "))) {
                continue;
            }
            boolean match = true;
            for (int i = 0; i < labels.length; i += 2) {
                match &= line.contains(labels[i] + "=\"" + labels[i + 1] + "\"");
            }
            if (match) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }
}
