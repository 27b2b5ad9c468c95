package dev.mlinfra.commons.http;

import dev.mlinfra.commons.error.ApiException;
import jakarta.ws.rs.core.UriInfo;
import java.util.List;
import java.util.Map;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Every query parameter of the API takes one value: one given twice ({@code ?status=ready&status=failed})
 * is refused with a 400 naming it, where JAX-RS would quietly use the first and drop the rest.
 */
public class SingleQueryValues {

    @ServerRequestFilter
    public void onceEach(UriInfo uri) {
        for (Map.Entry<String, List<String>> parameter : uri.getQueryParameters().entrySet()) {
            int given = parameter.getValue().size();
            if (given > 1) {
                String name = parameter.getKey();
                throw ApiException.badRequest("Query parameter '" + (name.length() > 64 ? name.substring(0, 64) + "..." : name)
                        + "' is given " + given + " times; give it once");
            }
        }
    }
}
