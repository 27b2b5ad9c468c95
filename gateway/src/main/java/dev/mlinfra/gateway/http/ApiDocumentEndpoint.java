package dev.mlinfra.gateway.http;

import dev.mlinfra.commons.error.ErrorCode;
import dev.mlinfra.commons.http.HttpErrors;
import dev.mlinfra.gateway.openapi.ApiDocuments;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Locale;
import java.util.Set;

/**
 * {@code GET /q/openapi}: the whole API's document in place of the gateway's own, in the formats
 * Quarkus offers: JSON for {@code ?format=json}, {@code /q/openapi.json} or an Accept of JSON,
 * YAML otherwise. Swagger UI reads it from the same path.
 */
@ApplicationScoped
public class ApiDocumentEndpoint {

    private static final Set<String> PATHS = Set.of("/q/openapi", "/q/openapi/", "/q/openapi.json", "/q/openapi.yaml",
            "/q/openapi.yml");
    private static final String JSON = "application/json;charset=UTF-8";
    private static final String YAML = "application/yaml;charset=UTF-8";

    private final ApiDocuments documents;

    public ApiDocumentEndpoint(ApiDocuments documents) {
        this.documents = documents;
    }

    static boolean serves(String path) {
        return PATHS.contains(path);
    }

    void handle(RoutingContext ctx) {
        HttpMethod method = ctx.request().method();
        if (method != HttpMethod.GET && method != HttpMethod.HEAD) {
            ctx.response().putHeader(HttpHeaders.ALLOW, "GET, HEAD");
            HttpErrors.end(ctx, ErrorCode.METHOD_NOT_ALLOWED, "Only GET reads the API document");
            return;
        }
        ApiDocuments.Rendered rendered = documents.rendered();
        boolean json = wantsJson(ctx);
        byte[] body = json ? rendered.json() : rendered.yaml();
        ctx.response()
                .putHeader(HttpHeaders.CONTENT_TYPE, json ? JSON : YAML)
                .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache");
        if (method == HttpMethod.HEAD) {
            ctx.response().putHeader(HttpHeaders.CONTENT_LENGTH, Integer.toString(body.length)).end();
        } else {
            ctx.response().end(Buffer.buffer(body));
        }
    }

    private static boolean wantsJson(RoutingContext ctx) {
        String path = ctx.normalizedPath();
        if (path.endsWith(".json")) {
            return true;
        }
        if (path.endsWith(".yaml") || path.endsWith(".yml")) {
            return false;
        }
        String format = ctx.request().getParam("format");
        if (format != null) {
            return format.toLowerCase(Locale.ROOT).equals("json");
        }
        String accept = ctx.request().getHeader(HttpHeaders.ACCEPT);
        return accept != null && accept.toLowerCase(Locale.ROOT).contains("json");
    }
}
