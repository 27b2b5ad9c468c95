package dev.mlinfra.gateway.route;

import dev.mlinfra.commons.identity.Identity;
import io.vertx.core.http.HttpMethod;
import java.util.List;
import java.util.Optional;
import java.util.function.BiPredicate;
import java.util.regex.Pattern;

/**
 * The routing table of ARCHITECTURE.md as data: the first rule that matches a request decides
 * its service and rate-limit area. GET /models and GET /models/{id} count as inference, as the
 * contract lists them there. Deployments and the OpenAI-compatible API belong to inference-service
 * and count as inference too; errors the gateway answers on /v1/openai take OpenAI's shape.
 * Generations answered whole ({@code POST /v1/inference}, the OpenAI completions) may keep their
 * service silent longer than other requests ({@link Exchange}).
 */
public final class RouteTable {

    public static final String LOCAL = null;

    private record Rule(BiPredicate<HttpMethod, String> matches, String service, String area, Exchange exchange,
            ErrorStyle errors) {

        Rule(BiPredicate<HttpMethod, String> matches, String service, String area) {
            this(matches, service, area, Exchange.ANSWER, ErrorStyle.CONTRACT);
        }
    }

    private static final Pattern MODEL_READ = Pattern.compile("/v1/models(/[^/]+)?/?");
    private static final Pattern DATASET_UPLOAD = Pattern.compile("/v1/datasets/upload/[^/]+/?");
    private static final Pattern GENERATION = Pattern.compile("/v1/inference/?");
    private static final Pattern OPENAI_GENERATION = Pattern.compile("/v1/openai/(chat/)?completions/?");

    private static final List<Rule> RULES = List.of(
            new Rule((m, p) -> under(p, "/v1/admin"), LOCAL, "admin"),
            new Rule((m, p) -> under(p, "/v1/training"), "training", "training"),
            new Rule((m, p) -> m == HttpMethod.POST && GENERATION.matcher(p).matches(), "inference", "inference",
                    Exchange.GENERATION, ErrorStyle.CONTRACT),
            new Rule((m, p) -> under(p, "/v1/inference"), "inference", "inference"),
            new Rule((m, p) -> under(p, "/v1/deployments"), "inference", "inference"),
            new Rule((m, p) -> m == HttpMethod.POST && OPENAI_GENERATION.matcher(p).matches(), "inference", "inference",
                    Exchange.GENERATION, ErrorStyle.OPENAI),
            new Rule((m, p) -> under(p, "/v1/openai"), "inference", "inference", Exchange.ANSWER, ErrorStyle.OPENAI),
            new Rule((m, p) -> (m == HttpMethod.GET || m == HttpMethod.HEAD) && MODEL_READ.matcher(p).matches(), "registry",
                    "inference"),
            new Rule((m, p) -> under(p, "/v1/models"), "registry", "model"),
            new Rule((m, p) -> m == HttpMethod.PUT && DATASET_UPLOAD.matcher(p).matches(), "datasets", "data",
                    Exchange.UPLOAD, ErrorStyle.CONTRACT),
            new Rule((m, p) -> under(p, "/v1/datasets"), "datasets", "data"),
            new Rule((m, p) -> under(p, "/v1/infrastructure"), "infrastructure", "infrastructure"));

    private RouteTable() {
    }

    public static Optional<Route> resolve(HttpMethod method, String path) {
        for (Rule rule : RULES) {
            if (rule.matches.test(method, path)) {
                return Optional.of(new Route(rule.service, rule.area, scopeFor(method, rule), rule.exchange, rule.errors));
            }
        }
        return Optional.empty();
    }

    private static String scopeFor(HttpMethod method, Rule rule) {
        if ("admin".equals(rule.area)) {
            return Identity.SCOPE_ADMIN;
        }
        return method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.OPTIONS
                ? Identity.SCOPE_READ
                : Identity.SCOPE_WRITE;
    }

    private static boolean under(String path, String prefix) {
        return path.equals(prefix) || path.startsWith(prefix + "/");
    }
}
