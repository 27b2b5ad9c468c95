package dev.mlinfra.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.http.HttpMethod;
import org.junit.jupiter.api.Test;

class RouteTableTest {

    private static Route route(HttpMethod method, String path) {
        return RouteTable.resolve(method, path).orElseThrow(() -> new AssertionError("no route for " + method + " " + path));
    }

    @Test
    void eachAreaGoesToItsService() {
        assertEquals(new Route("training", "training", "write", Exchange.ANSWER, ErrorStyle.CONTRACT), route(HttpMethod.POST, "/v1/training/jobs"));
        assertEquals(new Route("training", "training", "read", Exchange.ANSWER, ErrorStyle.CONTRACT), route(HttpMethod.GET, "/v1/training/jobs/j-1"));
        assertEquals(new Route("inference", "inference", "write", Exchange.GENERATION, ErrorStyle.CONTRACT), route(HttpMethod.POST, "/v1/inference"));
        assertEquals(new Route("datasets", "data", "read", Exchange.ANSWER, ErrorStyle.CONTRACT), route(HttpMethod.GET, "/v1/datasets"));
        assertEquals(new Route("infrastructure", "infrastructure", "read", Exchange.ANSWER, ErrorStyle.CONTRACT),
                route(HttpMethod.GET, "/v1/infrastructure/metrics"));
    }

    @Test
    void deploymentsAndTheOpenAiApiGoToInferenceAndCountAsInference() {
        assertEquals(new Route("inference", "inference", "read", Exchange.ANSWER, ErrorStyle.CONTRACT),
                route(HttpMethod.GET, "/v1/deployments"));
        assertEquals(new Route("inference", "inference", "write", Exchange.ANSWER, ErrorStyle.CONTRACT),
                route(HttpMethod.DELETE, "/v1/deployments/d-1"));
        assertEquals(new Route("inference", "inference", "read", Exchange.ANSWER, ErrorStyle.OPENAI),
                route(HttpMethod.GET, "/v1/openai/models"));
        assertEquals(new Route("inference", "inference", "write", Exchange.GENERATION, ErrorStyle.OPENAI),
                route(HttpMethod.POST, "/v1/openai/chat/completions"));
        assertEquals(new Route("inference", "inference", "write", Exchange.GENERATION, ErrorStyle.OPENAI),
                route(HttpMethod.POST, "/v1/openai/completions"));
        assertTrue(RouteTable.resolve(HttpMethod.GET, "/v1/openaix/models").isEmpty());
    }

    @Test
    void onlyTheOpenAiApiAnswersInOpenAisErrorShape() {
        for (String path : new String[] {"/v1/inference", "/v1/models", "/v1/training/jobs", "/v1/datasets",
                "/v1/infrastructure/status", "/v1/admin/api-keys", "/v1/deployments/d-1"}) {
            assertEquals(ErrorStyle.CONTRACT, route(HttpMethod.GET, path).errors(), path);
        }
    }

    @Test
    void readingModelsCountsAsInferenceAndManagingThemAsModelManagement() {
        assertEquals("inference", route(HttpMethod.GET, "/v1/models").area());
        assertEquals("inference", route(HttpMethod.GET, "/v1/models/llama-a").area());
        assertEquals("inference", route(HttpMethod.HEAD, "/v1/models/llama-a").area());
        assertEquals("model", route(HttpMethod.POST, "/v1/models/register").area());
        assertEquals("model", route(HttpMethod.POST, "/v1/models/llama-a/stage").area());
        assertEquals("model", route(HttpMethod.DELETE, "/v1/models/llama-a").area());
        assertEquals("registry", route(HttpMethod.GET, "/v1/models").service());
    }

    @Test
    void datasetFileUploadsAreMarkedForTheLargeBodyLimit() {
        assertTrue(route(HttpMethod.PUT, "/v1/datasets/upload/u-1").upload());
        assertEquals(false, route(HttpMethod.POST, "/v1/datasets/upload").upload());
    }

    @Test
    void generationsAnsweredWholeMayKeepTheirServiceSilentLonger() {
        assertEquals(Exchange.GENERATION, route(HttpMethod.POST, "/v1/inference").exchange());
        assertEquals(Exchange.GENERATION, route(HttpMethod.POST, "/v1/openai/chat/completions/").exchange());
        for (String path : new String[] {"/v1/openai/models", "/v1/deployments", "/v1/inference/x", "/v1/openai/embeddings"}) {
            assertEquals(Exchange.ANSWER, route(HttpMethod.POST, path).exchange(), path);
        }
        assertEquals(Exchange.ANSWER, route(HttpMethod.GET, "/v1/inference").exchange());
        assertEquals(Exchange.UPLOAD, route(HttpMethod.PUT, "/v1/datasets/upload/u-1").exchange());
    }

    @Test
    void adminNeedsTheAdminScopeAndIsServedLocally() {
        Route admin = route(HttpMethod.GET, "/v1/admin/api-keys");
        assertTrue(admin.local());
        assertEquals("admin", admin.scope());
    }

    @Test
    void unknownPathsAndOtherVersionsHaveNoRoute() {
        assertTrue(RouteTable.resolve(HttpMethod.GET, "/v2/models").isEmpty());
        assertTrue(RouteTable.resolve(HttpMethod.GET, "/v1/trainingx").isEmpty());
        assertTrue(RouteTable.resolve(HttpMethod.GET, "/").isEmpty());
    }
}
