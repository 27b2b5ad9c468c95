package dev.mlinfra.commons.http;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.spi.Bean;
import jakarta.enterprise.inject.spi.BeanManager;
import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.Path;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The methods each path of this service's JAX-RS resources takes, read from their annotations once:
 * what a 405 names in {@code Allow} (which JAX-RS leaves out) and what {@code OPTIONS} answers (where
 * JAX-RS lists every method of the resource class, whatever the path).
 */
@ApplicationScoped
public class AllowedMethods {

    private record Template(Pattern path, String method) {
    }

    private final BeanManager beans;
    private volatile List<Template> templates;

    public AllowedMethods(BeanManager beans) {
        this.beans = beans;
    }

    /** The methods {@code path} takes, as an {@code Allow} header says them ("GET, HEAD, OPTIONS"); null when none. */
    public String of(String path) {
        String normalized = path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        // RESTEasy routes each method on its own: GET /v1/datasets/upload is a GET of /v1/datasets/{dataset_id}
        // beside POST /v1/datasets/upload, so every template that matches counts.
        Set<String> methods = new TreeSet<>();
        for (Template t : templates()) {
            if (t.path.matcher(normalized).matches()) {
                methods.add(t.method);
            }
        }
        if (methods.isEmpty()) {
            return null;
        }
        if (methods.contains("GET")) {
            methods.add("HEAD");
        }
        methods.add("OPTIONS");
        return String.join(", ", methods);
    }

    private List<Template> templates() {
        List<Template> known = templates;
        if (known == null) {
            known = new ArrayList<>();
            for (Bean<?> bean : beans.getBeans(Object.class, Any.Literal.INSTANCE)) {
                // a REST client's interface says a peer's paths, not this service's
                Path root = bean.getBeanClass().isInterface() ? null : bean.getBeanClass().getAnnotation(Path.class);
                if (root == null) {
                    continue;
                }
                for (Method m : bean.getBeanClass().getMethods()) {
                    String method = httpMethod(m);
                    if (method != null) {
                        Path sub = m.getAnnotation(Path.class);
                        known.add(new Template(pattern(root.value() + (sub == null ? "" : "/" + sub.value())), method));
                    }
                }
            }
            templates = known;
        }
        return known;
    }

    private static String httpMethod(Method m) {
        for (Annotation a : m.getAnnotations()) {
            HttpMethod http = a.annotationType().getAnnotation(HttpMethod.class);
            if (http != null) {
                return http.value();
            }
        }
        return null;
    }

    /** A path template ({@code /v1/models/{model_id}/stage}) as a pattern: each parameter one segment. */
    static Pattern pattern(String template) {
        String path = ("/" + template).replaceAll("/+", "/");
        if (path.length() > 1 && path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        StringBuilder regex = new StringBuilder();
        for (String part : path.split("(?=\\{)|(?<=\\})")) {
            regex.append(part.startsWith("{") ? "[^/]+" : Pattern.quote(part));
        }
        return Pattern.compile(regex.toString());
    }
}
