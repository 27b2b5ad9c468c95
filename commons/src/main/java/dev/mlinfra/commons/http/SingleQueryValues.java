package dev.mlinfra.commons.http;

import dev.mlinfra.commons.error.ApiException;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.UriInfo;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Query parameters as strictly as body fields: every one of the API takes one value, and one given
 * twice ({@code ?status=ready&status=failed}) is refused with a 400 naming it, where JAX-RS would
 * quietly use the first and drop the rest; one given without a value ({@code ?limit=}) too, where
 * it would be taken as absent; one the endpoint does not take ({@code ?cursor=...},
 * {@code ?sort=name}) is refused naming those it takes, where it would be ignored and a client paging
 * by it would get the first page forever.
 */
public class SingleQueryValues {

    /** Per endpoint method, the names of its query parameters. */
    private static final Map<Method, Set<String>> TAKEN = new ConcurrentHashMap<>();

    @ServerRequestFilter
    public void onceEach(UriInfo uri, ResourceInfo resource) {
        Map<String, List<String>> parameters = uri.getQueryParameters();
        if (parameters.isEmpty()) {
            return;
        }
        Method method = resource == null ? null : resource.getResourceMethod();
        Set<String> taken = method == null ? null : TAKEN.computeIfAbsent(method, SingleQueryValues::queryParameters);
        Set<String> unknown = new TreeSet<>();
        for (Map.Entry<String, List<String>> parameter : parameters.entrySet()) {
            String name = parameter.getKey();
            int given = parameter.getValue().size();
            if (given > 1) {
                throw ApiException.badRequest("Query parameter '" + shortened(name) + "' is given " + given
                        + " times; give it once");
            }
            if (taken != null && !taken.contains(name)) {
                unknown.add("'" + shortened(name) + "'");
            } else if (given == 1 && parameter.getValue().get(0).isBlank()) {
                throw ApiException.badRequest("Query parameter '" + shortened(name) + "' is given without a value;"
                        + " give it a value or leave it out");
            }
        }
        if (!unknown.isEmpty()) {
            throw unknown(unknown, taken, streams(method) ? "the event stream (Accept: text/event-stream)" : "this endpoint");
        }
    }

    /**
     * For routes outside JAX-RS that take no query parameter: the refusal of the request's, or null
     * when it has none. Names are read from the raw query, so a malformed escape is no failure here.
     */
    public static ApiException noneTaken(String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) {
            return null;
        }
        Set<String> names = new TreeSet<>();
        for (String parameter : rawQuery.split("&")) {
            if (!parameter.isEmpty()) {
                names.add("'" + shortened(Redaction.decode(parameter.split("=", 2)[0])) + "'");
            }
        }
        return names.isEmpty() ? null : unknown(names, Set.of(), "this endpoint");
    }

    /**
     * Whether the method answers server-sent events: its path may take query parameters as JSON
     * (a page of events), which the refusal should not seem to deny.
     */
    private static boolean streams(Method method) {
        Produces produces = method == null ? null : method.getAnnotation(Produces.class);
        return produces != null && List.of(produces.value()).contains(MediaType.SERVER_SENT_EVENTS);
    }

    private static ApiException unknown(Set<String> quotedNames, Set<String> taken, String endpoint) {
        return ApiException.badRequest("Unknown query parameter" + (quotedNames.size() == 1 ? " " : "s ")
                + String.join(", ", quotedNames.stream().limit(5).toList()) + (quotedNames.size() > 5 ? " and more" : "")
                + "; " + endpoint + " takes " + (taken.isEmpty() ? "none" : String.join(", ", taken)));
    }

    private static Set<String> queryParameters(Method method) {
        Set<String> names = new TreeSet<>();
        for (Parameter p : method.getParameters()) {
            QueryParam q = p.getAnnotation(QueryParam.class);
            if (q != null) {
                names.add(q.value());
            }
        }
        return names;
    }

    private static String shortened(String name) {
        return name.length() > 64 ? name.substring(0, 64) + "..." : name;
    }
}
