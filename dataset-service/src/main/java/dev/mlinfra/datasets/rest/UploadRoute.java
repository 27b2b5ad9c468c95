package dev.mlinfra.datasets.rest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.error.ApiException;
import dev.mlinfra.commons.error.ErrorCode;
import dev.mlinfra.commons.http.HttpErrors;
import dev.mlinfra.commons.http.RequestBodyStream;
import dev.mlinfra.commons.http.RequestIds;
import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.commons.identity.IdentityTokens;
import dev.mlinfra.datasets.Dataset;
import dev.mlinfra.datasets.config.DatasetConfig;
import dev.mlinfra.datasets.service.DatasetService;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * {@code PUT /v1/datasets/upload/{upload_id}}: the file of a dataset, as a raw body (documented in
 * {@code META-INF/openapi.yaml}). A Vert.x route rather than a JAX-RS method because the body
 * is hundreds of megabytes: it flows from the connection through a {@link RequestBodyStream}
 * to the worker thread that stores and validates it ({@link DatasetService#receive}), and the
 * connection reads ahead instead of handing over one buffer per request from the worker. The
 * answer comes once the dataset is {@code ready} or {@code failed}.
 */
@ApplicationScoped
public class UploadRoute {

    private static final Logger LOG = Logger.getLogger(UploadRoute.class);
    static final String PATH = "/v1/datasets/upload/:upload_id";
    /** Body bytes queued ahead of the worker before the connection pauses. */
    private static final int READ_AHEAD = 2 * 1024 * 1024;

    private final DatasetService datasets;
    private final DatasetConfig config;
    private final ObjectMapper json;
    private final String publicUrl;

    public UploadRoute(DatasetService datasets, DatasetConfig config, ObjectMapper json,
            @ConfigProperty(name = "mlinfra.public-url", defaultValue = "http://127.0.0.1:8080") String publicUrl) {
        this.datasets = datasets;
        this.config = config;
        this.json = json;
        this.publicUrl = publicUrl;
    }

    void register(@Observes Router router) {
        router.put(PATH).handler(this::upload);
        router.route(PATH).handler(ctx -> {
            if (!HttpErrors.answerOptions(ctx, "PUT")) {
                ApiException refused = HttpErrors.methodNotAllowed(ctx, "PUT");
                HttpErrors.end(ctx, refused.code(), refused.getMessage());
            }
        });
    }

    private void upload(RoutingContext ctx) {
        Identity caller = ctx.get(IdentityTokens.CONTEXT_KEY);
        if (caller == null) {
            refuse(ctx, null, ApiException.unauthorized("No verified caller for this request"));
            return;
        }
        long length;
        String header = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
        try {
            length = header == null ? -1 : Long.parseLong(header);
        } catch (NumberFormatException e) {
            refuse(ctx, null, ApiException.badRequest("Invalid Content-Length header: " + header));
            return;
        }
        String uploadId = ctx.pathParam("upload_id");
        String requestId = ctx.get(RequestIds.KEY);
        RequestBodyStream body = new RequestBodyStream(ctx.request(), READ_AHEAD, config.uploadIdleTimeout());
        datasets.receive(caller.team(), uploadId, body, length, body::start).subscribe().with(d -> {
            try {
                ctx.response().setStatusCode(200).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                        .end(json.writeValueAsString(DatasetViews.full(d, publicUrl)));
            } catch (JsonProcessingException e) {
                failed(ctx, body, uploadId, requestId, e);
            }
        }, e -> {
            if (e instanceof ApiException api) {
                refuse(ctx, body, api);
            } else {
                failed(ctx, body, uploadId, requestId, e);
            }
        });
    }

    private static void failed(RoutingContext ctx, RequestBodyStream body, String uploadId, String requestId, Throwable e) {
        LOG.errorf(e, "Upload %s failed", uploadId);
        refuse(ctx, body, new ApiException(ErrorCode.INTERNAL_ERROR,
                "Internal error; quote request id " + requestId + " when reporting it"));
    }

    /** Answers with the error object; closes the connection when part of the body was never read. */
    private static void refuse(RoutingContext ctx, RequestBodyStream body, ApiException e) {
        HttpServerResponse response = ctx.response();
        if (body == null || !body.complete()) {
            response.putHeader(HttpHeaders.CONNECTION, "close");
        }
        HttpErrors.end(response, e.code(), e.getMessage());
    }
}
