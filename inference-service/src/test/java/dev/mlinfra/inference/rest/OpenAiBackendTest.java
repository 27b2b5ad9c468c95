package dev.mlinfra.inference.rest;

import static dev.mlinfra.inference.rest.ServingFixtures.as;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.storage.ObjectStore;
import dev.mlinfra.testsupport.Devstack;
import dev.mlinfra.testsupport.DevstackResource;
import dev.mlinfra.testsupport.SteadyUse;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import jakarta.inject.Inject;
import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The openai backend against a server of its own (an OpenAI-compatible server written here, which
 * fails on demand): the calls inference-service makes, 502 with the request id when the server
 * fails, the circuit breaker answering 503 with Retry-After once it has failed twice in a row,
 * and answers again once the server is well.
 */
@QuarkusTest
@TestProfile(OpenAiBackendTest.Profile.class)
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "inference"),
        restrictToAnnotatedClass = true)
@QuarkusTestResource(value = OpenAiBackendTest.Server.class, restrictToAnnotatedClass = true)
class OpenAiBackendTest {

    static final String TEAM = "team-openai";

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // Deployments remembered for 2 s instead of the tests' minute, to see them read ahead of their expiry.
            return Map.of("mlinfra.inference.backend", "openai", "mlinfra.inference.calls.circuit-failures", "2",
                    "mlinfra.inference.calls.circuit-open", "3s",
                    "quarkus.cache.caffeine.\"deployment-lookups\".expire-after-write", "PT2S");
        }
    }

    /**
     * An OpenAI-compatible server that records its calls; generation fails while {@link #failing} is
     * above 0, and a load of an adapter whose name starts with a key of {@link #HELD} is answered
     * when the key's future completes, with the status it gives.
     */
    public static class Server implements QuarkusTestResourceLifecycleManager {
        static final List<String> CALLS = new CopyOnWriteArrayList<>();
        static final AtomicInteger failing = new AtomicInteger();
        static final Map<String, CompletableFuture<Integer>> HELD = new ConcurrentHashMap<>();
        private Vertx vertx;
        private HttpServer server;

        @Override
        public Map<String, String> start() {
            vertx = Vertx.vertx();
            server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
                CALLS.add(req.method() + " " + req.path() + " " + body);
                if (req.path().equals("/v1/load_lora_adapter")) {
                    var held = HELD.entrySet().stream().filter(e -> body.toString().contains("\"" + e.getKey())).findFirst();
                    if (held.isPresent()) {
                        held.get().getValue().thenAccept(status -> req.response().setStatusCode(status)
                                .putHeader("content-type", "application/json").end(status == 200 ? "Success"
                                        : "{\"error\": {\"message\": \"adapter was trained on another base model\","
                                                + " \"type\": \"BadRequestError\"}}"));
                        return;
                    }
                }
                if (req.path().equals("/v1/completions") && failing.get() > 0) {
                    req.response().setStatusCode(500).putHeader("content-type", "application/json")
                            .end("{\"error\": {\"message\": \"CUDA out of memory\", \"type\": \"InternalServerError\"}}");
                    return;
                }
                String answer = switch (req.path()) {
                    case "/v1/completions" -> "{\"id\": \"cmpl-1\", \"object\": \"text_completion\", \"model\": \"x\","
                            + " \"choices\": [{\"index\": 0, \"text\": \"Issue type: bug\", \"finish_reason\": \"stop\"}],"
                            + " \"usage\": {\"prompt_tokens\": 40, \"completion_tokens\": 5, \"total_tokens\": 45}}";
                    case "/v1/models" -> "{\"object\": \"list\", \"data\": []}";
                    default -> "Success";
                };
                req.response().setStatusCode(200).putHeader("content-type", "application/json").end(answer);
            })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().join();
            return Map.of("mlinfra.inference.openai.urls.scout", "http://127.0.0.1:" + server.actualPort());
        }

        @Override
        public void stop() {
            if (vertx != null) {
                vertx.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join();
            }
        }
    }

    @Inject
    ObjectStore store;

    @Inject
    ObjectMapper json;

    @Inject
    MeterRegistry meters;

    private static Map<String, Object> request(String modelId) {
        return Map.of("model_id", modelId, "input", InferenceApiTest.INPUT, "parameters", Map.of("temperature", 0, "max_tokens", 8));
    }

    @Test
    void drivesAnyOpenAiServerAndSortsItsFailures() throws Exception {
        ServingFixtures fixtures = new ServingFixtures(store, json);
        String id = ServingFixtures.newModelId();
        String artifact = fixtures.adapter(TEAM, "train-" + id, 31, true);
        fixtures.registered(TEAM, id, "v1.0.0", "production", artifact);
        ServingFixtures.awaitState(TEAM, id, "ready");
        as(TEAM).get("/v1/deployments/" + id).then().body("backend", equalTo("openai"));
        String served = ServingFixtures.servedName(TEAM, id);
        assertTrue(Server.CALLS.stream().anyMatch(c -> c.startsWith("POST /v1/load_lora_adapter") && c.contains(served)
                && c.contains(artifact) && c.contains("\"pinned\":true")), Server.CALLS.toString());

        Response ok = as(TEAM).contentType(ContentType.JSON).body(request(id)).post("/v1/inference");
        ok.then().statusCode(200).body("output", equalTo("Issue type: bug")).body("metadata.tokens_generated", equalTo(5));
        String sent = Server.CALLS.get(Server.CALLS.size() - 1);
        assertTrue(sent.startsWith("POST /v1/completions") && sent.contains(served) && sent.contains("Repository: argoproj/argo-cd"),
                sent);

        // The server fails: 502 naming the request id, never a stack trace; after two in a row the
        // circuit opens and requests are refused at once with 503 and Retry-After, without a call.
        Server.failing.set(1);
        for (int i = 0; i < 2; i++) {
            String requestId = "req-openai-" + i;
            as(TEAM).header("X-Request-Id", requestId).contentType(ContentType.JSON).body(request(id)).post("/v1/inference")
                    .then().statusCode(502).body("error.code", equalTo("bad_gateway"))
                    .body("error.message", containsString("CUDA out of memory")).body("error.message", containsString(requestId))
                    .body("error.message", not(containsString("Exception")))
                    // where the server runs is the operators' business (the log has it), not the teams'
                    .body("error.message", not(containsString("127.0.0.1")));
        }
        int calls = Server.CALLS.size();
        Response refused = as(TEAM).contentType(ContentType.JSON).body(request(id)).post("/v1/inference");
        assertEquals(503, refused.statusCode(), refused.asString());
        assertTrue(Integer.parseInt(refused.header("Retry-After")) > 0);
        assertEquals(calls, Server.CALLS.size(), "an open circuit calls nobody");

        // Well again: once the circuit lets a call through, answers come back.
        Server.failing.set(0);
        ServingFixtures.await("an answer once the circuit closes", () -> as(TEAM).contentType(ContentType.JSON)
                .body(request(id)).post("/v1/inference").statusCode() == 200, () -> Server.CALLS.size());
        as(TEAM).get("/internal/v1/inference/servers").then().statusCode(200).body("backend", equalTo("openai"))
                .body("servers[0].state", equalTo("configured"));

        // A server named by URL is the user's: the adapter sweep (every 2 s in the tests, from 5 s after the
        // start) never lists it, so it never unloads what was loaded there otherwise. Its model list is read
        // once, for its context, at the first request to it (a sweep would read it every 2 s).
        Thread.sleep(9_000);
        assertEquals(1, Server.CALLS.stream().filter(c -> c.startsWith("GET /v1/models")).count(), Server.CALLS.toString());
    }

    @Test
    void aPromotionGoesStraightFromTheReplacedVersionToThePromotedOne() throws Exception {
        ServingFixtures fixtures = new ServingFixtures(store, json);
        String id = ServingFixtures.newModelId();
        String v1 = fixtures.adapter(TEAM, "train-" + id + "-1", 51, true);
        String v2 = fixtures.adapter(TEAM, "train-" + id + "-2", 52, true);
        String v3 = fixtures.adapter(TEAM, "train-" + id + "-3", 53, true);
        fixtures.registered(TEAM, id, "v1.0.0", "production", v1);
        ServingFixtures.awaitState(TEAM, id, "ready");
        fixtures.registered(TEAM, id, "v1.1.0", "staging", v2);
        fixtures.registered(TEAM, id, "v1.2.0", "none", v3);
        // v1.1.0 promoted: the registry archives v1.0.0 itself, then announces the promotion
        fixtures.stageChanged(TEAM, id, "v1.0.0", "production", "archived", v1, null);
        fixtures.stageChanged(TEAM, id, "v1.1.0", "staging", "production", v2);
        ServingFixtures.await("v1.1.0 ready", () -> "v1.1.0".equals(as(TEAM).get("/v1/deployments/" + id).jsonPath()
                .getString("version")) && "ready".equals(ServingFixtures.state(TEAM, id)),
                () -> as(TEAM).get("/v1/deployments/" + id).asString());
        String newest = TEAM + "/" + id + "/v1.2.0";
        assertTrue(Server.CALLS.stream().noneMatch(c -> c.startsWith("POST /v1/load_lora_adapter") && c.contains(newest)),
                "the newest version, never promoted, was never deployed: " + Server.CALLS);
    }

    @Test
    void whileAPromotedVersionDeploysTheVersionItReplacesAnswers() throws Exception {
        String id = ServingFixtures.newModelId();
        Promoting p = promotedWithItsLoadHeld(id, 61);
        // v1.0.0 answers on the OpenAI route and in its model list too, and keeps its adapter until v2.0.0 is
        // ready; then only v2.0.0 answers and v1.0.0's adapter is unloaded.
        try {
            as(TEAM).contentType(ContentType.JSON).body(Map.of("model", id, "prompt", "Issue:", "max_tokens", 4))
                    .post("/v1/openai/completions").then().statusCode(200).body("model", equalTo(id));
            assertTrue(lastCompletion().contains("\"" + p.served1() + "\""), lastCompletion());
            as(TEAM).get("/v1/openai/models/" + id).then().statusCode(200).body("version", equalTo("v1.0.0"));
            assertTrue(Server.CALLS.stream().noneMatch(c -> c.startsWith("POST /v1/unload_lora_adapter")
                    && c.contains(p.served1())), "v1.0.0's adapter stays loaded while it answers: " + Server.CALLS);
        } finally {
            p.load().complete(200);
        }
        ServingFixtures.awaitState(TEAM, id, "ready");
        String served2 = ServingFixtures.servedName(TEAM, id);
        as(TEAM).get("/v1/deployments/" + id).then().body("version", equalTo("v2.0.0")).body("previous_version", equalTo(null));
        answersAs(id, "v2.0.0", served2);
        awaitUnloaded(p.served1());
    }

    @Test
    void theVersionAnsweringWhileAnotherDeploysServesOnWhenItServesAgainAndStopsWhenAPersonArchivesIt() throws Exception {
        ServingFixtures fixtures = new ServingFixtures(store, json);
        String id = ServingFixtures.newModelId();
        String v1 = fixtures.adapter(TEAM, "train-" + id + "-1", 63, true);
        String v2 = fixtures.adapter(TEAM, "train-" + id + "-2", 64, true);
        String v3 = fixtures.adapter(TEAM, "train-" + id + "-3", 65, true);
        fixtures.registered(TEAM, id, "v1.0.0", "staging", v1);
        ServingFixtures.awaitState(TEAM, id, "ready");
        String served1 = ServingFixtures.servedName(TEAM, id);
        // With the object store away, a new version waits to read its prompt template: deploying, while events still come.
        Devstack.stopS3();
        try {
            // A newer version registered (the newest not archived serves when none is in production): v1.0.0 answers meanwhile.
            fixtures.registered(TEAM, id, "v2.0.0", "none", v2);
            awaitDeploying(id, "v2.0.0", "v1.0.0");
            answersAs(id, "v1.0.0", served1);
            // v2.0.0 archived before it is ready: v1.0.0 serves on, as it is loaded, at once.
            fixtures.stageChanged(TEAM, id, "v2.0.0", "none", "archived", v2);
            ServingFixtures.awaitState(TEAM, id, "ready");
            as(TEAM).get("/v1/deployments/" + id).then().body("version", equalTo("v1.0.0")).body("served_name", equalTo(served1))
                    .body("previous_version", equalTo(null));
            answersAs(id, "v1.0.0", served1);

            // Another newer version, then a person archives v1.0.0: it answers no more, its adapter goes, and
            // requests wait for v3.0.0.
            fixtures.registered(TEAM, id, "v3.0.0", "none", v3);
            awaitDeploying(id, "v3.0.0", "v1.0.0");
            fixtures.stageChanged(TEAM, id, "v1.0.0", "staging", "archived", v1);
            ServingFixtures.await("v1.0.0 no longer answering", () -> as(TEAM).get("/v1/deployments/" + id).jsonPath()
                    .getString("previous_version") == null, () -> as(TEAM).get("/v1/deployments/" + id).asString());
            Response waiting = as(TEAM).contentType(ContentType.JSON).body(request(id)).post("/v1/inference");
            assertEquals(503, waiting.statusCode(), waiting.asString());
            assertTrue(waiting.asString().contains("v3.0.0 is being deployed"), waiting.asString());
            as(TEAM).get("/v1/openai/models/" + id).then().statusCode(404);
            awaitUnloaded(served1);
        } finally {
            Devstack.startS3();
        }
        ServingFixtures.awaitState(TEAM, id, "ready");
        answersAs(id, "v3.0.0", ServingFixtures.servedName(TEAM, id));
        uploadsAgain();
    }

    @Test
    void aVersionThatFailsToDeployTakesTheVersionAnsweringMeanwhileOutOfServiceWithIt() throws Exception {
        String id = ServingFixtures.newModelId();
        Promoting p = promotedWithItsLoadHeld(id, 65);
        // The registry has archived v1.0.0: it answered only while v2.0.0 deployed, and goes when v2.0.0 fails.
        p.load().complete(400);
        ServingFixtures.awaitState(TEAM, id, "failed");
        as(TEAM).get("/v1/deployments/" + id).then().body("previous_version", equalTo(null));
        as(TEAM).contentType(ContentType.JSON).body(request(id)).post("/v1/inference").then().statusCode(409)
                .body("error.message", containsString("version v2.0.0 could not be deployed"));
        as(TEAM).get("/v1/openai/models/" + id).then().statusCode(404);
        awaitUnloaded(p.served1());
    }

    /** A promotion under way: the adapter of the version answering meanwhile, and the held load of the promoted one. */
    private record Promoting(String served1, CompletableFuture<Integer> load) {
    }

    /**
     * v1.0.0 in production and ready, then v2.0.0 registered and promoted with its adapter's load
     * held: deploying, while v1.0.0 answers. The load is to be completed within a call's timeout (the
     * event consumer waits for the load it started).
     */
    private Promoting promotedWithItsLoadHeld(String id, long seed) throws Exception {
        ServingFixtures fixtures = new ServingFixtures(store, json);
        String v1 = fixtures.adapter(TEAM, "train-" + id + "-1", seed, true);
        String v2 = fixtures.adapter(TEAM, "train-" + id + "-2", seed + 1, true);
        fixtures.registered(TEAM, id, "v1.0.0", "production", v1);
        ServingFixtures.awaitState(TEAM, id, "ready");
        String served1 = ServingFixtures.servedName(TEAM, id);
        fixtures.registered(TEAM, id, "v2.0.0", "staging", v2);
        CompletableFuture<Integer> load = new CompletableFuture<>();
        Server.HELD.put(TEAM + "/" + id + "/v2.0.0/", load);
        fixtures.stageChanged(TEAM, id, "v1.0.0", "production", "archived", v1, null);
        fixtures.stageChanged(TEAM, id, "v2.0.0", "staging", "production", v2);
        try {
            awaitDeploying(id, "v2.0.0", "v1.0.0");
            answersAs(id, "v1.0.0", served1);
        } catch (Throwable e) {
            load.complete(200);
            throw e;
        }
        return new Promoting(served1, load);
    }

    private static void awaitUnloaded(String served) {
        ServingFixtures.await(served + " unloaded", () -> Server.CALLS.stream()
                .anyMatch(c -> c.startsWith("POST /v1/unload_lora_adapter") && c.contains(served)), () -> Server.CALLS);
    }

    private static void awaitDeploying(String id, String version, String previous) {
        ServingFixtures.await(version + " deploying while " + previous + " answers", () -> {
            var d = as(TEAM).get("/v1/deployments/" + id).jsonPath();
            return "deploying".equals(d.getString("state")) && version.equals(d.getString("version"))
                    && previous.equals(d.getString("previous_version"));
        }, () -> as(TEAM).get("/v1/deployments/" + id).asString());
    }

    /** An inference request on the model is answered by {@code version}, through its adapter {@code served}. */
    private static void answersAs(String id, String version, String served) {
        as(TEAM).contentType(ContentType.JSON).body(request(id)).post("/v1/inference").then().statusCode(200)
                .body("metadata.model_version", equalTo(version));
        assertTrue(lastCompletion().contains("\"" + served + "\""), lastCompletion());
    }

    private static String lastCompletion() {
        return Server.CALLS.stream().filter(c -> c.startsWith("POST /v1/completions")).reduce((a, b) -> b).orElseThrow();
    }

    @Test
    void aModelTypeWithoutAServerFailsToDeployAndSaysWhatToConfigure() throws Exception {
        ServingFixtures fixtures = new ServingFixtures(store, json);
        String id = ServingFixtures.newModelId();
        fixtures.registered(TEAM, id, "maverick", "v1.0.0", "production", fixtures.adapter(TEAM, "train-" + id, 41, true));
        ServingFixtures.awaitState(TEAM, id, "failed");
        as(TEAM).get("/v1/deployments/" + id).then().body("reason", containsString("mlinfra.inference.openai.urls.maverick"));
        as(TEAM).contentType(ContentType.JSON).body(request(id)).post("/v1/inference").then().statusCode(409)
                .body("error.message", containsString("no server is configured for maverick models"));
    }

    @Test
    void aDeploymentWaitsForTheObjectStoreWhileItIsAwayAndServesOnceItIsBack() throws Exception {
        ServingFixtures fixtures = new ServingFixtures(store, json);
        String id = ServingFixtures.newModelId();
        String artifact = fixtures.adapter(TEAM, "train-" + id, 43, true);
        Devstack.stopS3();
        try {
            fixtures.registered(TEAM, id, "v1.0.0", "production", artifact);
            ServingFixtures.awaitState(TEAM, id, "deploying");
            Thread.sleep(3000);
            as(TEAM).get("/v1/deployments/" + id).then().body("state", equalTo("deploying"));
        } finally {
            Devstack.startS3();
        }
        ServingFixtures.awaitState(TEAM, id, "ready");
        as(TEAM).contentType(ContentType.JSON).body(request(id)).post("/v1/inference").then().statusCode(200);
        uploadsAgain();
    }

    /**
     * After the object store restarted: an upload on a connection from before the restart fails once
     * (and the dead connections go), so the tests after this one upload again.
     */
    private void uploadsAgain() {
        ServingFixtures.await("uploads to the restarted object store", () -> {
            try {
                store.put("tests/after-a-restart", new ByteArrayInputStream(new byte[] {1}), 1, "application/octet-stream");
                return true;
            } catch (ObjectStore.ObjectStoreException e) {
                return false;
            }
        }, () -> "");
    }

    @Test
    void aModelInSteadyUseHasItsDeploymentReadAheadOfItsExpiry() throws Exception {
        ServingFixtures fixtures = new ServingFixtures(store, json);
        String id = ServingFixtures.newModelId();
        fixtures.registered(TEAM, id, "v1.0.0", "production", fixtures.adapter(TEAM, "train-" + id, 37, true));
        ServingFixtures.awaitState(TEAM, id, "ready");
        as(TEAM).contentType(ContentType.JSON).body(request(id)).post("/v1/inference").then().statusCode(200);
        // 5 s of requests, 4 a second, with deployments remembered for 2 s: the model's deployment is
        // read again ahead of its expiry, at least twice, and never by a request that waits for it.
        // Requests more than 0.75 s apart could find it expired (read ahead once it is 1 s old).
        SteadyUse.keeps(5, 20, Duration.ofMillis(250), Duration.ofMillis(750),
                () -> as(TEAM).contentType(ContentType.JSON).body(request(id)).post("/v1/inference").then().statusCode(200),
                () -> {
                    double waited = lookupReads("on_request");
                    double ahead = lookupReads("ahead");
                    return () -> {
                        assertEquals(waited, lookupReads("on_request"), "no request waited for a read of its deployment");
                        assertTrue(lookupReads("ahead") - ahead >= 2, "read ahead " + (lookupReads("ahead") - ahead) + " times");
                    };
                });
    }

    private double lookupReads(String when) {
        return meters.get("mlinfra.inference.deployment_lookup.reads").tag("when", when).counter().count();
    }
}
