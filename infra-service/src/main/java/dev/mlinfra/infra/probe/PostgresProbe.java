package dev.mlinfra.infra.probe;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** PostgreSQL: the server this service's database lives on, asked for its version. */
@ApplicationScoped
public class PostgresProbe implements ComponentProbe {

    static final String KEY = "postgresql";

    private final Pool client;
    private final String endpoint;

    public PostgresProbe(Pool client, @ConfigProperty(name = "quarkus.datasource.reactive.url") String url) {
        this.client = client;
        this.endpoint = withoutCredentials(url);
    }

    /** {@code postgresql://user:secret@host:port/db?password=x} -> {@code host:port/db}. */
    static String withoutCredentials(String url) {
        String s = url.replaceFirst("^[a-z]+:(//)?", "");
        s = s.substring(s.indexOf('@') + 1);
        int query = s.indexOf('?');
        return query < 0 ? s : s.substring(0, query);
    }

    @Override
    public Uni<List<Entry>> probe(Map<String, String> forwarded, Duration timeout) {
        long started = System.nanoTime();
        return client.query("SELECT current_setting('server_version') AS version, version() AS description").execute()
                .map(rows -> {
                    Row row = rows.iterator().next();
                    return ComponentStatus.healthy(row.getString("version"))
                            .with("description", row.getString("description"));
                })
                .ifNoItem().after(timeout).recoverWithItem(() -> ComponentStatus.unhealthy("did not answer within " + timeout.toMillis() + " ms"))
                .onFailure().recoverWithItem(e -> ComponentStatus.unhealthy(HttpProbe.reason(e)))
                .map(s -> List.of(new Entry(KEY, s.withInternal("endpoint", endpoint)
                        .with("latency_ms", (System.nanoTime() - started) / 1_000_000), true)));
    }

    @Override
    public Map<String, Boolean> keys() {
        return Map.of(KEY, true);
    }
}
