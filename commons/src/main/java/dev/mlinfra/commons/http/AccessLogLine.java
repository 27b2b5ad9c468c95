package dev.mlinfra.commons.http;

import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Gives the access log a request line without credentials. Quarkus' {@code %r} prints the
 * request line as the client sent it, so a key in the query string ({@code ?x-api-key=mlk_...})
 * would be kept in every log; the access-log pattern prints {@code %{d,request_line}} instead,
 * the line {@link Redaction} made of it, stored here before any other handler runs.
 */
@ApplicationScoped
public class AccessLogLine {

    /** Routing-context key the access-log pattern reads ({@code quarkus.http.access-log.pattern}). */
    public static final String KEY = "request_line";

    /** Before the request id filter, so even a request refused there is logged redacted. */
    static final int PRIORITY = 1100;

    void register(@Observes Filters filters) {
        filters.register(AccessLogLine::apply, PRIORITY);
    }

    static void apply(RoutingContext ctx) {
        ctx.put(KEY, Redaction.requestLine(ctx.request()));
        ctx.next();
    }
}
