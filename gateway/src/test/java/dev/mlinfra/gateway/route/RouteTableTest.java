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
        assertEquals(new Route("training", "training", "write", false), route(HttpMethod.POST, "/v1/training/jobs"));
        assertEquals(new Route("training", "training", "read", false), route(HttpMethod.GET, "/v1/training/jobs/j-1"));
        assertEquals(new Route("inference", "inference", "write", false), route(HttpMethod.POST, "/v1/inference"));
        assertEquals(new Route("datasets", "data", "read", false), route(HttpMethod.GET, "/v1/datasets"));
        assertEquals(new Route("infrastructure", "infrastructure", "read", false),
                route(HttpMethod.GET, "/v1/infrastructure/metrics"));
    }

    @Test
    void readingModelsCountsAsInferenceAndManagingThemAsModelManagement() {
        assertEquals("inference", route(HttpMethod.GET, "/v1/models").area());
        assertEquals("inference", route(HttpMethod.GET, "/v1/models/llama-a").area());
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
