package dev.mlinfra.gateway.http;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.gateway.GatewayTestBackends;
import dev.mlinfra.gateway.GatewayTestKeys;
import dev.mlinfra.testsupport.Devstack;
import dev.mlinfra.testsupport.DevstackResource;
import dev.mlinfra.testsupport.Management;
import dev.mlinfra.testsupport.RawHttp;
import dev.mlinfra.testsupport.SteadyUse;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "gateway"))
@QuarkusTestResource(value = GatewayTestBackends.class, restrictToAnnotatedClass = true)
class GatewayTest {

    @TestHTTPResource("/")
    URI base;

    @Inject
    MeterRegistry meters;

    @Inject
    Pool database;

    private static void assertErrorObject(Response response, int status, String code) {
        response.then().statusCode(status)
                .contentType(ContentType.JSON)
                .body("error.code", equalTo(code))
                .body("error.status", equalTo(status))
                .body("error.message", notNullValue());
    }

    @Test
    void aRequestWithoutKeyIsRefusedWith401() {
        assertErrorObject(given().get("/v1/datasets"), 401, "unauthorized");
    }

    @Test
    void anUnknownOrMalformedKeyIsRefusedWith401() {
        assertErrorObject(given().header("x-api-key", "mlk_0123456789abcdef_" + "x".repeat(32)).get("/v1/datasets"), 401,
                "unauthorized");
        assertErrorObject(given().header("x-api-key", "not-a-key").get("/v1/datasets"), 401, "unauthorized");
        var key = GatewayTestKeys.create("team-a", "read", "write");
        String tampered = key.secret().substring(0, key.secret().length() - 1)
                + (key.secret().endsWith("A") ? "B" : "A");
        assertErrorObject(given().header("x-api-key", tampered).get("/v1/datasets"), 401, "unauthorized");
    }

    @Test
    void aSignInTokenWhereSignInIsNotEnabledIsRefusedSayingSo() {
        Response response = given().header("Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln")
                .get("/v1/datasets");
        assertErrorObject(response, 401, "unauthorized");
        response.then().body("error.message", containsString("sign-in with an identity provider is not enabled here"));
    }

    @Test
    void anHttp11RequestWithoutHostIsToldWhatItLacks() throws Exception {
        try (java.net.Socket socket = new java.net.Socket(base.getHost(), base.getPort())) {
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write(("GET /v1/datasets HTTP/1.1\r\nx-api-key: " + GatewayTestBackends.BOOTSTRAP_KEY
                    + "\r\nConnection: close\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String answer = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(answer.startsWith("HTTP/1.1 400"), answer);
            assertTrue(answer.contains("{\"error\":{\"code\":\"invalid_request\",\"message\":\"An HTTP/1.1 request needs a Host"
                    + " header\",\"status\":400}}"), answer);
        }
    }

    /** What a raw request line gets back (a client library would percent-encode it first). */
    private String sendRaw(String requestLine) throws Exception {
        try (java.net.Socket socket = new java.net.Socket(base.getHost(), base.getPort())) {
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write((requestLine + "\r\nHost: localhost\r\nx-api-key: "
                    + GatewayTestBackends.BOOTSTRAP_KEY + "\r\nConnection: close\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    @Test
    void aPathOrQueryThatIsNoUriIsRefusedWithTheErrorObject() throws Exception {
        for (String target : List.of("/v1/datasets/%ZZ", "/v1/datasets?status=%ZZ", "/v1/x/%", "/v1/datasets?q=a|b")) {
            String answer = sendRaw("GET " + target + " HTTP/1.1");
            assertTrue(answer.startsWith("HTTP/1.1 400"), target + ": " + answer);
            assertTrue(answer.contains("{\"error\":{\"code\":\"invalid_request\",\"message\":\"The request's path and query are"
                    + " not a valid URI: "), target + ": " + answer);
            assertTrue(answer.contains("percent-encode reserved characters"), target + ": " + answer);
            // with its request id, also where the HTTP layer's handlers failed on the path before the id was given
            assertTrue(answer.toLowerCase(java.util.Locale.ROOT).contains("\r\nx-request-id: "), target + ": " + answer);
        }
        // OpenAI's shape on its route
        for (String target : List.of("/v1/openai/models?x=%ZZ", "/v1/openai/models/%ZZ")) {
            String openAi = sendRaw("GET " + target + " HTTP/1.1");
            assertTrue(openAi.startsWith("HTTP/1.1 400") && openAi.contains("\"type\":\"invalid_request_error\"")
                    && openAi.contains("not a valid URI"), target + ": " + openAi);
        }
        // a valid escape goes on as before
        assertTrue(sendRaw("GET /v1/datasets?status=%72eady HTTP/1.1").startsWith("HTTP/1.1 200"));
    }

    @Test
    void twoKeysInOneHeaderAreRefusedWhicheverComesFirst() {
        var a = GatewayTestKeys.create("team-a", "read");
        var b = GatewayTestKeys.create("team-b", "read");
        for (String[] order : new String[][] {{a.secret(), b.secret()}, {b.secret(), a.secret()}}) {
            Response response = given().header("x-api-key", order[0]).header("x-api-key", order[1]).get("/v1/datasets");
            assertErrorObject(response, 401, "unauthorized");
            response.then().body("error.message",
                    equalTo("The x-api-key header is given 2 times with different values; send one API key"));
        }
        given().header("x-api-key", a.secret()).header("x-api-key", a.secret()).get("/v1/datasets").then().statusCode(not(401));
    }

    @Test
    void aKeyWithoutTheNeededScopeIsRefusedWith403() {
        var reader = GatewayTestKeys.create("team-a", "read");
        given().header("x-api-key", reader.secret()).get("/v1/datasets").then().statusCode(not(403));
        assertErrorObject(given().header("x-api-key", reader.secret()).contentType(ContentType.JSON).body("{}")
                .post("/v1/datasets/upload"), 403, "forbidden");
        assertErrorObject(given().header("x-api-key", reader.secret()).get("/v1/admin/api-keys"), 403, "forbidden");
        assertErrorObject(given().header("x-api-key", reader.secret()).get("/v1/admin/api-keys/" + reader.id()), 403, "forbidden");
        var writer = GatewayTestKeys.create("team-a", "write");
        assertErrorObject(given().header("x-api-key", writer.secret()).get("/v1/datasets"), 403, "forbidden");
    }

    @Test
    void unknownPathsAndOtherVersionsAre404ErrorObjects() {
        var key = GatewayTestKeys.create("team-a", "read");
        assertErrorObject(given().header("x-api-key", key.secret()).get("/v2/models"), 404, "not_found");
        assertErrorObject(given().header("x-api-key", key.secret()).get("/v1/nothing-here"), 404, "not_found");
        assertErrorObject(given().get("/"), 404, "not_found");
    }

    @Test
    void healthAndMetricsAnswerOnlyOnTheManagementPort() {
        for (String path : List.of("/q/metrics", "/q/health", "/q/health/ready", "/q/info", "/q/dev-ui")) {
            assertErrorObject(given().get(path), 404, "not_found");
        }
        // the gateway keeps no per-request HTTP timers (application.properties, Metrics); the JVM's metrics are there
        Management.given().get("/q/metrics").then().statusCode(200).body(containsString("jvm_memory_used_bytes"));
        Management.given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        // the API's documentation stays public
        given().accept("application/json").get("/q/openapi").then().statusCode(200).body("openapi", notNullValue());
        given().get("/q/swagger-ui/").then().statusCode(200);
    }

    @Test
    void requestsReachTheDatasetServiceWithTheirRequestId() throws Exception {
        var key = GatewayTestKeys.create("team-a", "read");
        String requestId = "req-" + UUID.randomUUID();
        Response response = given().header("x-api-key", key.secret()).header("X-Request-Id", requestId)
                .get("/v1/datasets");
        response.then().header("X-Request-Id", equalTo(requestId))
                .contentType(ContentType.JSON);
        // Neither the gateway's refusals nor an unreachable backend: the service itself answered.
        assertTrue(response.statusCode() != 401 && response.statusCode() != 403 && response.statusCode() < 500,
                "unexpected status " + response.statusCode() + ": " + response.asString());
        Path log = GatewayTestBackends.datasetServiceLog();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        boolean logged = false;
        while (!logged && System.nanoTime() < deadline) {
            logged = Files.readString(log).contains(requestId);
            if (!logged) {
                Thread.sleep(100);
            }
        }
        assertTrue(logged, "dataset-service log names request " + requestId);
    }

    /**
     * HTTP/2 clients: Java's HttpClient, which asks for it by default (a cleartext upgrade on http://),
     * and one that speaks it from the start and sends a body without saying its length (HTTP/2 needs
     * no Content-Length): the service gets the whole body, chunked on the gateway's HTTP/1.1 hop.
     */
    @Test
    void http2ClientsReachTheServicesWithBodiesOfUnknownLength() throws Exception {
        var key = GatewayTestKeys.create("team-h2", "read", "write");
        HttpResponse<String> listed = HttpClient.newHttpClient().send(HttpRequest.newBuilder(base.resolve("/v1/datasets"))
                .header("x-api-key", key.secret()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, listed.statusCode(), listed.body());

        io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
        try {
            var client = vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions()
                    .setProtocolVersion(io.vertx.core.http.HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
            String name = "h2-" + UUID.randomUUID().toString().substring(0, 8);
            Map.Entry<Integer, String> answer = client.request(io.vertx.core.http.HttpMethod.POST, base.getPort(),
                    base.getHost(), "/v1/datasets/upload").compose(request -> {
                        // over HTTP/2 "chunked" only means: no Content-Length
                        request.setChunked(true).putHeader("x-api-key", key.secret()).putHeader("content-type", "application/json");
                        request.write("{\"name\": \"" + name + "\", \"description\": \"\", ");
                        request.end("\"source\": \"github\", \"format\": \"jsonl\", \"version\": \"v1\"}");
                        return request.response().compose(r -> r.body().map(b -> Map.entry(r.statusCode(), b.toString())));
                    }).toCompletionStage().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(200, answer.getKey(), answer.getValue());
            assertTrue(answer.getValue().contains("upload_url"), answer.getValue());
            given().header("x-api-key", key.secret()).get("/v1/datasets").then().statusCode(200)
                    .body("datasets.name", hasItem(name));
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    @Test
    void aGeneratedRequestIdIsReturnedWhenTheClientSendsNone() {
        var key = GatewayTestKeys.create("team-a", "read");
        given().header("x-api-key", key.secret()).get("/v1/datasets").then().header("X-Request-Id", notNullValue());
    }

    @Test
    void aServiceThatIsDownGives503() {
        var key = GatewayTestKeys.create("team-a", "read");
        Response down = given().header("x-api-key", key.secret()).get("/v1/training/jobs");
        assertErrorObject(down, 503, "service_unavailable");
        down.then().header("Retry-After", "5");
    }

    /**
     * While the keys cannot be read (PostgreSQL hangs: connections open, nothing answered), a key read in
     * the last minutes is trusted as it was: its request reaches the service (training here, which is
     * down: its own 503) after the read's timeout (3 s). A key never read gets a 503 that says when to retry.
     */
    @Test
    void aKeyReadRecentlyIsTrustedWhileTheDatabaseHangs() throws Exception {
        var known = GatewayTestKeys.create("team-outage", "read");
        var unread = GatewayTestKeys.create("team-outage", "read");
        given().header("x-api-key", known.secret()).get("/v1/training/jobs").then().statusCode(503)
                .body("error.message", containsString("training service is unavailable"));
        Thread.sleep(2_500); // past the key's 2 s in memory: the next request reads it
        Devstack.freezePostgres();
        try {
            HttpResponse<String> trusted = getWithin(known.secret(), "/v1/training/jobs");
            assertEquals(503, trusted.statusCode(), trusted.body());
            assertTrue(trusted.body().contains("training service is unavailable"), trusted.body());
            HttpResponse<String> refused = getWithin(unread.secret(), "/v1/training/jobs");
            assertEquals(503, refused.statusCode(), refused.body());
            assertTrue(refused.body().contains("Authentication is unavailable"), refused.body());
            assertEquals("5", refused.headers().firstValue("Retry-After").orElse(null));
        } finally {
            Devstack.thawPostgres();
        }
        given().header("x-api-key", unread.secret()).get("/v1/training/jobs").then().statusCode(503)
                .body("error.message", containsString("training service is unavailable"));
    }

    /** A GET that must be answered within 10 s (the key read's timeout and room for a busy machine). */
    private HttpResponse<String> getWithin(String key, String path) throws Exception {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(HttpRequest.newBuilder(base.resolve(path))
                .header("x-api-key", key).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aServiceThatDoesNotAnswerGives504() {
        var key = GatewayTestKeys.create("team-a", "read");
        assertErrorObject(given().header("x-api-key", key.secret()).get("/v1/infrastructure/status"), 504, "gateway_timeout");
    }

    @Test
    void aBodyOverTheLimitGives413() {
        var key = GatewayTestKeys.create("team-a", "write");
        assertErrorObject(given().header("x-api-key", key.secret()).contentType(ContentType.JSON)
                .body("{\"description\":\"" + "x".repeat(8192) + "\"}").post("/v1/datasets/upload"), 413, "payload_too_large");
        // the gateway's own endpoints too
        var admin = GatewayTestKeys.create("team-a", "admin");
        Response own = given().header("x-api-key", admin.secret()).contentType(ContentType.JSON)
                .body("{\"team\":\"" + "x".repeat(2 * 1024 * 1024) + "\"}").post("/v1/admin/api-keys");
        assertErrorObject(own, 413, "payload_too_large");
        own.then().body("error.message", containsString("at most 1048576"));
    }

    /**
     * A body of unknown length (chunked) is counted as it comes: over the limit it gets the same 413 with
     * the error object, not a 502 from the cut exchange with the service nor the HTTP layer's empty 413;
     * within it, it is read as one with a Content-Length.
     */
    @Test
    void aChunkedBodyOverTheLimitGives413WithTheErrorObject() throws Exception {
        var key = GatewayTestKeys.create("team-a", "write");
        RawHttp.Answer proxied = postChunked("/v1/datasets/upload", key.secret(),
                "{\"description\":\"" + "x".repeat(64 * 1024) + "\"}");
        assertEquals(413, proxied.status(), proxied.body());
        assertTrue(proxied.body().contains("\"code\":\"payload_too_large\""), proxied.body());
        var admin = GatewayTestKeys.create("team-a", "admin");
        for (int size : new int[] {2 * 1024 * 1024, 20 * 1024 * 1024}) {
            RawHttp.Answer own = postChunked("/v1/admin/api-keys", admin.secret(), "{\"team\":\"" + "x".repeat(size) + "\"}");
            assertEquals(413, own.status(), size + " bytes: " + own.body());
            assertTrue(own.body().contains("\"code\":\"payload_too_large\"") && own.body().contains("at most 1048576"),
                    size + " bytes: " + own.body());
        }
        RawHttp.Answer created = postChunked("/v1/admin/api-keys", admin.secret(),
                "{\"team\": \"team-chunked\", \"scopes\": [\"read\"], \"name\": \"chunked\"}");
        assertEquals(201, created.status(), created.body());
        assertTrue(created.body().contains("\"team\":\"team-chunked\""), created.body());
    }

    private RawHttp.Answer postChunked(String path, String key, String body) throws Exception {
        return RawHttp.postChunked(base.getHost(), base.getPort(), path,
                Map.of("x-api-key", key, "Content-Type", "application/json"), body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void aRequestLineOrHeadersLargerThanAServiceTakesAreRefusedWithTheErrorObject() {
        var key = GatewayTestKeys.create("team-a", "read");
        Response longUri = given().header("x-api-key", key.secret()).get("/v1/models/" + "a".repeat(5000));
        assertErrorObject(longUri, 414, "uri_too_long");
        longUri.then().body("error.message", containsString("at most 4000"));
        Response bigHeaders = given().header("x-api-key", key.secret()).header("X-Big", "a".repeat(20_000)).get("/v1/models");
        assertErrorObject(bigHeaders, 431, "headers_too_large");
        bigHeaders.then().body("error.message", containsString("at most 16384"));
        // in OpenAI's shape on its route
        given().header("Authorization", "Bearer " + key.secret()).header("X-Big", "a".repeat(20_000)).get("/v1/openai/models")
                .then().statusCode(431).body("error.type", equalTo("invalid_request_error"))
                .body("error.code", equalTo("headers_too_large"));
        // headers that fit go on to the service
        int fits = given().header("x-api-key", key.secret()).header("X-Big", "a".repeat(9000)).get("/v1/models").statusCode();
        assertTrue(fits != 431 && fits != 414, "refused: " + fits);
    }

    @Test
    void everyLimitedResponseCarriesRateLimitHeadersAnd429HasRetryAfter() {
        var key = GatewayTestKeys.create("team-a", "read", "write");
        long before = Instant.now().getEpochSecond();
        long firstAnswered = 0;
        for (int i = 1; i <= 10; i++) {
            Response r = given().header("x-api-key", key.secret()).get("/v1/training/jobs");
            if (i == 1) {
                // the window opened while the first request was under way
                firstAnswered = Instant.now().getEpochSecond();
            }
            r.then().statusCode(503)
                    .header("X-RateLimit-Limit", "10")
                    .header("X-RateLimit-Remaining", String.valueOf(10 - i))
                    .header("RateLimit-Policy", "\"training\";q=10;w=60")
                    .header("RateLimit", startsWith("\"training\";r=" + (10 - i) + ";t="));
            long reset = Long.parseLong(r.header("X-RateLimit-Reset"));
            assertTrue(reset >= before + 59 && reset <= firstAnswered + 62, "reset " + reset + " is about a minute ahead");
        }
        Response refused = given().header("x-api-key", key.secret()).get("/v1/training/jobs");
        assertErrorObject(refused, 429, "rate_limit_exceeded");
        refused.then().header("X-RateLimit-Limit", "10").header("X-RateLimit-Remaining", "0")
                .header("RateLimit", startsWith("\"training\";r=0;t="))
                .header("Retry-After", notNullValue())
                .body("error.message", containsString("training"));
        long retryAfter = Long.parseLong(refused.header("Retry-After"));
        assertTrue(retryAfter >= 1 && retryAfter <= 60, "Retry-After " + retryAfter);
        // A successful request carries the headers too.
        given().header("x-api-key", key.secret()).get("/v1/datasets").then()
                .statusCode(not(429)).header("X-RateLimit-Limit", "60").header("X-RateLimit-Remaining", "59");
    }

    @Test
    void fiftySimultaneousRequestsAgainstALimitOfTenLetExactlyTenThrough() {
        var key = GatewayTestKeys.create("team-b", "read", "write");
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            calls.add(client.sendAsync(HttpRequest.newBuilder(base.resolve("/v1/training/jobs"))
                    .header("x-api-key", key.secret()).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        long refused = calls.stream().map(CompletableFuture::join).filter(r -> r.statusCode() == 429).count();
        assertEquals(40, refused, "of 50 requests against a limit of 10, 40 are refused");
    }

    @Test
    void areasAreCountedIndependently() {
        var key = GatewayTestKeys.create("team-c", "read", "write");
        for (int i = 0; i < 10; i++) {
            given().header("x-api-key", key.secret()).get("/v1/training/jobs").then().statusCode(503);
        }
        given().header("x-api-key", key.secret()).get("/v1/training/jobs").then().statusCode(429);
        given().header("x-api-key", key.secret()).get("/v1/datasets").then().statusCode(not(429))
                .header("X-RateLimit-Limit", "60");
        // GET /models belongs to the inference area (100/min), other model calls to model management (60/min).
        given().header("x-api-key", key.secret()).get("/v1/models").then().header("X-RateLimit-Limit", "100");
        given().header("x-api-key", key.secret()).contentType(ContentType.JSON).body("{}").post("/v1/models/register")
                .then().header("X-RateLimit-Limit", "60");
        // Another key of the same team has its own budget.
        var other = GatewayTestKeys.create("team-c", "read");
        given().header("x-api-key", other.secret()).get("/v1/training/jobs").then().statusCode(503)
                .header("X-RateLimit-Remaining", "9");
    }

    @Test
    void adminsCreateListAndRevokeKeysAndARevokedKeyIsRefusedWithinFiveSeconds() throws Exception {
        var key = GatewayTestKeys.create("team-d", "read");
        given().header("x-api-key", key.secret()).get("/v1/datasets").then().statusCode(not(401));
        given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).queryParam("team", "team-d")
                .get("/v1/admin/api-keys").then().statusCode(200)
                .body("api_keys.key_id", hasItem(key.id()))
                .body("api_keys[0].api_key", equalTo(null))
                .body("api_keys[0].key_hash", equalTo(null))
                .body("total", equalTo(1)).body("limit", equalTo(10)).body("offset", equalTo(0));
        // A team name no key can have is refused as on create, not answered with an empty list.
        assertErrorObject(given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).queryParam("team", "Team D")
                .get("/v1/admin/api-keys"), 400, "invalid_request");
        // One key by its id: as listed, never its secret.
        given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).get("/v1/admin/api-keys/" + key.id())
                .then().statusCode(200).body("key_id", equalTo(key.id())).body("team", equalTo("team-d"))
                .body("status", equalTo("active")).body("revoked_at", equalTo(null))
                .body("api_key", equalTo(null)).body("key_hash", equalTo(null));
        given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).delete("/v1/admin/api-keys/" + key.id())
                .then().statusCode(200).body("key_id", equalTo(key.id())).body("status", equalTo("revoked"));
        long took = millisUntilRefused(key.secret(), Duration.ofSeconds(6));
        assertTrue(took < 5_000, "refused " + took + " ms after the revocation, not within 5 seconds");
        given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).get("/v1/admin/api-keys/" + key.id())
                .then().statusCode(200).body("status", equalTo("revoked")).body("revoked_at", notNullValue());
        assertErrorObject(given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY)
                .get("/v1/admin/api-keys/0000000000000000"), 404, "not_found");
        assertErrorObject(given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY)
                .delete("/v1/admin/api-keys/" + key.id()), 409, "conflict");
        assertErrorObject(given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY)
                .delete("/v1/admin/api-keys/0000000000000000"), 404, "not_found");
    }

    @Test
    void aKeyInSteadyUseIsReadAheadOfItsExpiryAndARevocationElsewhereHoldsWithinItsTtl() throws Exception {
        var key = GatewayTestKeys.create("team-e", "read");
        given().header("x-api-key", key.secret()).get("/v1/datasets").then().statusCode(not(401));
        // 5 s of requests, 4 a second, with the key remembered for 2 s (GatewayTestBackends): read again
        // ahead of its expiry, at least twice, and never by a request that waits for it. Requests more
        // than 0.75 s apart could find it expired (read ahead once it is 1 s old).
        SteadyUse.keeps(5, 20, Duration.ofMillis(250), Duration.ofMillis(750),
                () -> given().header("x-api-key", key.secret()).get("/v1/datasets").then().statusCode(not(401)),
                () -> {
                    double waited = keyReads("on_request");
                    double ahead = keyReads("ahead");
                    return () -> {
                        assertEquals(waited, keyReads("on_request"), "no request waited for a read of its key");
                        assertTrue(keyReads("ahead") - ahead >= 2, "the key was read ahead " + (keyReads("ahead") - ahead) + " times");
                    };
                });
        // Revoked by another replica (in the database only, so this one does not forget it): refused
        // within the 2 s the key is remembered, reads ahead included.
        database.preparedQuery("UPDATE api_key SET revoked_at = now() WHERE key_id = $1").execute(Tuple.of(key.id()))
                .await().atMost(Duration.ofSeconds(10));
        long took = millisUntilRefused(key.secret(), Duration.ofSeconds(5));
        assertTrue(took < 3_000, "refused " + took + " ms after the revocation; it may be remembered for 2 s");
    }

    /** Asks with a key just revoked, ten times a second, until it is refused (401); how long that took. */
    private static long millisUntilRefused(String secret, Duration atMost) throws InterruptedException {
        long revokedAt = System.nanoTime();
        int status;
        do {
            status = given().header("x-api-key", secret).get("/v1/datasets").statusCode();
            if (status != 401) {
                Thread.sleep(100);
            }
        } while (status != 401 && System.nanoTime() - revokedAt < atMost.toNanos());
        assertEquals(401, status, "still accepted " + atMost + " after the revocation");
        return Duration.ofNanos(System.nanoTime() - revokedAt).toMillis();
    }

    private double keyReads(String when) {
        return meters.get("mlinfra.gateway.api_key.reads").tag("when", when).counter().count();
    }

    @Test
    void keyCreationValidatesItsFields() {
        assertErrorObject(given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).contentType(ContentType.JSON)
                .body(Map.of("team", "Bad Team!", "scopes", List.of("read"), "name", "x")).post("/v1/admin/api-keys"),
                400, "invalid_request");
        // A team labels its TrainJobs in Kubernetes, whose label values end with a letter or digit.
        given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).contentType(ContentType.JSON)
                .body(Map.of("team", "platform-", "scopes", List.of("read"), "name", "x")).post("/v1/admin/api-keys")
                .then().statusCode(400).body("error.message", equalTo("Invalid field 'team': expected 1-63 characters of a-z,"
                        + " 0-9 and '-', starting and ending with a letter or digit"));
        given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).contentType(ContentType.JSON)
                .body(Map.of("team", "a" + "-b".repeat(31), "scopes", List.of("read"), "name", "x")).post("/v1/admin/api-keys")
                .then().statusCode(201);
        given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).contentType(ContentType.JSON)
                .body(Map.of("team", "ok", "scopes", List.of("read", "root"), "name", "x")).post("/v1/admin/api-keys")
                .then().statusCode(400).body("error.message", containsString("scopes"));
        given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).contentType(ContentType.JSON)
                .body("{\"team\": \"ok\", \"scopes\": [\"read\", null], \"name\": \"x\"}").post("/v1/admin/api-keys")
                .then().statusCode(400).body("error.message", containsString("'scopes'"));
        // A name is counted in characters as a person counts them, and is one line.
        given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).contentType(ContentType.JSON)
                .body(Map.of("team", "ok", "scopes", List.of("read"), "name", "\uD83D\uDE00".repeat(100)))
                .post("/v1/admin/api-keys").then().statusCode(201);
        given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).contentType(ContentType.JSON)
                .body(Map.of("team", "ok", "scopes", List.of("read"), "name", "x".repeat(101)))
                .post("/v1/admin/api-keys").then().statusCode(400).body("error.message", containsString("'name'"));
        given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).contentType(ContentType.JSON)
                .body(Map.of("team", "ok", "scopes", List.of("read"), "name", "line1\nline2"))
                .post("/v1/admin/api-keys").then().statusCode(400).body("error.message", containsString("on one line"));
        // A body in another charset than UTF-8, or compressed, is said to be so, not called invalid JSON.
        given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY)
                .contentType("application/json; charset=ISO-8859-1")
                .body("{\"team\":\"latin\",\"scopes\":[\"read\"],\"name\":\"caf\u00e9\"}".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1))
                .post("/v1/admin/api-keys").then().statusCode(415).body("error.code", equalTo("unsupported_media_type"))
                .body("error.message", startsWith("Charset 'ISO-8859-1' is not supported"));
        given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).header("Content-Encoding", "gzip")
                .contentType(ContentType.JSON).body(new byte[] {0x1f, (byte) 0x8b, 8, 0})
                .post("/v1/datasets/upload").then().statusCode(415)
                .body("error.message", equalTo("Content-Encoding 'gzip' is not supported; send the request body uncompressed"));
        // The NUL character, which PostgreSQL would not keep, is a control character: a 400, not a failure of the store
        given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).contentType(ContentType.JSON)
                .body(Map.of("team", "ok", "scopes", List.of("read"), "name", "ci\u0000"))
                .post("/v1/admin/api-keys").then().statusCode(400).body("error.message", containsString("no control characters"));
        given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).contentType(ContentType.JSON)
                .body(Map.of("team", "ok", "scopes", List.of("read"), "name", "x", "color", "red"))
                .post("/v1/admin/api-keys")
                .then().statusCode(400).body("error.message", containsString("color"));
        given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).contentType(ContentType.JSON)
                .body("{\"team\": ").post("/v1/admin/api-keys")
                .then().statusCode(400).body("error.code", equalTo("invalid_request"));
        given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).queryParam("limit", "0")
                .get("/v1/admin/api-keys").then().statusCode(400).body("error.message", containsString("limit"));
    }

    @Test
    void theLastAdminKeyCannotBeRevoked() {
        String bootstrapId = GatewayTestBackends.BOOTSTRAP_KEY.substring(4, 20);
        // Other admin keys may exist from other tests; revoke them first through the API is not needed:
        // the bootstrap key is refused only when it is the last one, so make sure it is the only admin.
        var admin = GatewayTestKeys.create("default", "admin");
        given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).delete("/v1/admin/api-keys/" + admin.id())
                .then().statusCode(200);
        var list = given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).queryParam("status", "active")
                .queryParam("limit", "100").get("/v1/admin/api-keys").jsonPath();
        long admins = list.getList("api_keys.scopes", List.class).stream().filter(s -> s.contains("admin")).count();
        assertEquals(1, admins, "only the bootstrap key is an active admin key");
        assertErrorObject(given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY)
                .delete("/v1/admin/api-keys/" + bootstrapId), 409, "conflict");
        assertNotEquals(401, given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).get("/v1/admin/api-keys").statusCode());
    }

    @Test
    void servicesRefuseRequestsThatBypassTheGateway() {
        String direct = GatewayTestBackends.datasetServiceUrl();
        assertErrorObject(given().baseUri(direct).get("/v1/datasets"), 401, "unauthorized");
        assertErrorObject(given().baseUri(direct).header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY)
                .get("/v1/datasets"), 401, "unauthorized");
        assertErrorObject(given().baseUri(direct).header("x-mlinfra-identity", "eyJhbGciOiJub25lIn0.e30.")
                .get("/v1/datasets"), 401, "unauthorized");
    }
}
