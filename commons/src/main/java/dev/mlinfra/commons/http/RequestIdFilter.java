package dev.mlinfra.commons.http;

import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.MDC;

/**
 * Accepts or creates the request id before any other handler, returns it to the client and
 * puts it in the logging context, so every log line of the request carries it.
 */
@ApplicationScoped
public class RequestIdFilter {

    /** Runs before identity checks and every route. */
    static final int PRIORITY = 1000;

    void register(@Observes Filters filters) {
        filters.register(RequestIdFilter::apply, PRIORITY);
    }

    static void apply(RoutingContext ctx) {
        assign(ctx);
        ctx.next();
    }

    /** Gives the request its id (the client's, or a new one): in the context, the answer's header and the logging context. */
    static String assign(RoutingContext ctx) {
        String id = RequestIds.acceptOrGenerate(ctx.request().getHeader(RequestIds.HEADER));
        ctx.put(RequestIds.KEY, id);
        ctx.response().putHeader(RequestIds.HEADER, id);
        MDC.put(RequestIds.KEY, id);
        return id;
    }
}
