package dev.mlinfra.infra.probe;

import dev.mlinfra.commons.storage.S3Config;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The object store: its bucket asked over HTTP (any answer below 500 means it serves; no credentials are
 * sent), the product and version from its {@code Server} header. MinIO reports under {@code minio},
 * anything else under {@code object_storage} with its {@code product}.
 */
@ApplicationScoped
public class ObjectStoreProbe implements ComponentProbe {

    static final String GENERIC_KEY = "object_storage";
    static final String MINIO_KEY = "minio";
    /** {@code Jetty(11.0.26)}, {@code MinIO}, {@code AmazonS3}, {@code nginx/1.25.3}. */
    private static final Pattern SERVER = Pattern.compile("^\\s*([^/(\\s]+)\\s*[/(]?\\s*([^)\\s]*)");

    private final HttpProbe http;
    private final S3Config s3;
    /** The key of the product last seen, so that the entry keeps its key while the store is down. */
    private volatile String key = GENERIC_KEY;

    public ObjectStoreProbe(HttpProbe http, S3Config s3) {
        this.http = http;
        this.s3 = s3;
    }

    @Override
    public Uni<List<Entry>> probe(Map<String, String> forwarded, Duration timeout) {
        return http.head(s3.endpoint(), "/" + s3.bucket(), timeout)
                .map(answer -> {
                    if (answer.status() >= 500) {
                        return ComponentStatus.unhealthy("answered HTTP " + answer.status()).with("latency_ms", answer.latencyMs());
                    }
                    Matcher m = SERVER.matcher(answer.server() == null ? "" : answer.server());
                    String product = m.find() ? m.group(1) : null;
                    String version = m.find(0) && !m.group(2).isEmpty() ? m.group(2) : null;
                    key = "minio".equalsIgnoreCase(product) ? MINIO_KEY : GENERIC_KEY;
                    return ComponentStatus.healthy(version).with("product", product).with("latency_ms", answer.latencyMs());
                })
                .onFailure().recoverWithItem(e -> ComponentStatus.unhealthy(HttpProbe.reason(e)))
                .map(s -> List.of(new Entry(key, s.withInternal("endpoint", s3.endpoint())
                        .withInternal("bucket", s3.bucket()), true)));
    }

    @Override
    public Map<String, Boolean> keys() {
        return Map.of(key, true);
    }

    @Override
    public Set<String> names() {
        return Set.of(GENERIC_KEY, MINIO_KEY);
    }
}
