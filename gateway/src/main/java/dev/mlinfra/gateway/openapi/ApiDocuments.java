package dev.mlinfra.gateway.openapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.mlinfra.gateway.config.GatewayConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.smallrye.openapi.runtime.OpenApiConstants;
import io.quarkus.smallrye.openapi.runtime.OpenApiDocumentService;
import io.smallrye.openapi.runtime.io.Format;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * The whole API's OpenAPI document: the gateway's own merged with each service's, which is
 * fetched from {@code <service url>/q/openapi} at start (again every retry interval until it
 * answers) and every refresh interval after. The last good copy of each is kept, so a service
 * that is down leaves its endpoints documented, marked stale.
 */
@ApplicationScoped
public class ApiDocuments {

    private static final Logger LOG = Logger.getLogger(ApiDocuments.class);
    private static final String DOCUMENT_PATH = "/q/openapi?format=json";

    /** The merged document as served, in both formats. */
    public record Rendered(byte[] json, byte[] yaml) {
    }

    private final Vertx vertx;
    private final OpenApiDocumentService ownDocument;
    private final GatewayConfig.OpenApi config;
    private final Map<String, String> serviceUrls = new TreeMap<>();
    private final Map<String, ServiceDocument> held = new ConcurrentHashMap<>();
    private final ObjectMapper json = new ObjectMapper();
    private final YAMLMapper yaml = YAMLMapper.builder().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES).build();
    private final OpenApiMerger merger = new OpenApiMerger(json);
    private final Clock clock = Clock.systemUTC();
    private HttpClient client;
    private volatile ObjectNode gateway;
    private volatile Rendered rendered;
    private volatile long timer = -1;
    private volatile boolean stopped;

    public ApiDocuments(Vertx vertx, OpenApiDocumentService ownDocument, GatewayConfig config) {
        this.vertx = vertx;
        this.ownDocument = ownDocument;
        this.config = config.openapi();
        config.services().forEach((name, backend) -> serviceUrls.put(name, stripSlash(backend.url())));
        serviceUrls.keySet().forEach(name -> held.put(name, ServiceDocument.neverFetched(name)));
    }

    void start(@Observes StartupEvent event) {
        client = vertx.createHttpClient(new HttpClientOptions()
                .setConnectTimeout((int) config.fetchTimeout().toMillis())
                .setKeepAlive(false));
        refresh().whenComplete((ok, failure) -> schedule());
    }

    void stop(@Observes ShutdownEvent event) {
        stopped = true;
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        if (client != null) {
            client.close();
        }
    }

    private void schedule() {
        if (stopped) {
            return;
        }
        boolean allFresh = held.values().stream().allMatch(d -> d.available() && !d.stale());
        long delay = (allFresh ? config.refreshInterval() : config.retryInterval()).toMillis();
        timer = vertx.setTimer(Math.max(1, delay), id -> refresh().whenComplete((ok, failure) -> schedule()));
    }

    /** Fetches every service's document now; completes once each has answered or failed and the merge is done. */
    public CompletionStage<Void> refresh() {
        List<Future<?>> fetches = new ArrayList<>();
        serviceUrls.forEach((name, url) -> fetches.add(fetch(name, url)));
        return Future.join(fetches).<Void>transform(done -> {
            remerge();
            return Future.succeededFuture();
        }).toCompletionStage();
    }

    /** The merged document; merged from what is held when nothing was fetched yet. */
    public Rendered rendered() {
        Rendered current = rendered;
        if (current == null) {
            remerge();
            current = rendered;
        }
        return current;
    }

    private Future<Void> fetch(String name, String url) {
        RequestOptions request = new RequestOptions()
                .setMethod(HttpMethod.GET)
                .setAbsoluteURI(url + DOCUMENT_PATH)
                .setIdleTimeout(config.fetchTimeout().toMillis())
                .putHeader("Accept", "application/json");
        return client.request(request)
                .compose(r -> r.send())
                .compose(ApiDocuments::body)
                .map(body -> {
                    JsonNode tree = parse(body);
                    if (!(tree instanceof ObjectNode document) || !tree.has("openapi")) {
                        throw new IllegalStateException("the answer is not an OpenAPI document");
                    }
                    held.compute(name, (n, previous) -> previous.fetched(document, clock.instant()));
                    return (Void) null;
                })
                .recover(failure -> {
                    String reason = failure.getMessage() == null ? failure.toString() : failure.getMessage();
                    ServiceDocument after = held.compute(name, (n, previous) -> previous.failed(reason, clock.instant()));
                    LOG.warnf("Cannot fetch the API document of the %s service at %s (%s); %s", name, url, reason,
                            after.available() ? "keeping the copy fetched at " + after.fetchedAt()
                                    : "its endpoints are missing from /q/openapi until it answers");
                    return Future.succeededFuture();
                });
    }

    private static Future<Buffer> body(HttpClientResponse response) {
        if (response.statusCode() != 200) {
            return response.body().transform(ignored -> Future.failedFuture("HTTP " + response.statusCode()));
        }
        return response.body();
    }

    private JsonNode parse(Buffer body) {
        try {
            return json.readTree(body.getBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("the answer is not JSON", e);
        }
    }

    private synchronized void remerge() {
        ObjectNode document = merger.merge(own(), List.copyOf(held.values()));
        try {
            rendered = new Rendered(json.writerWithDefaultPrettyPrinter().writeValueAsBytes(document),
                    yaml.writeValueAsBytes(document));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot render the merged API document", e);
        }
    }

    /** The gateway's own document (its admin endpoints), as Quarkus built it. */
    private ObjectNode own() {
        if (gateway == null) {
            try {
                gateway = (ObjectNode) json.readTree(ownDocument.getDocument(OpenApiConstants.DEFAULT_DOCUMENT_NAME,
                        Format.JSON));
            } catch (IOException | RuntimeException e) {
                LOG.errorf(e, "Cannot read the gateway's own API document");
                return json.createObjectNode();
            }
        }
        return gateway;
    }

    private static String stripSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
}
