package dev.mlinfra.registry.rest;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.registry.RegistryTestPeers;
import dev.mlinfra.testsupport.DevstackResource;
import dev.mlinfra.testsupport.TestIdentities;
import dev.mlinfra.testsupport.TrainingStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The model registry against the real training-service (jobs that really trained), PostgreSQL and
 * Kafka. The tests build on each other in order: one model's versions are registered, promoted and
 * archived, another is deleted.
 */
@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "registry"))
@QuarkusTestResource(value = RegistryTestPeers.class, restrictToAnnotatedClass = true)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ModelRegistryApiTest {

    private static final Path SAMPLE = Path.of(System.getProperty("mlinfra.root"), "samples/datasets/gitops-issues.jsonl");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TEAM = "registry-" + UUID.randomUUID().toString().substring(0, 6);
    private static final String M1 = "gitops-scout-" + UUID.randomUUID().toString().substring(0, 6);
    private static final String M2 = "doomed-" + UUID.randomUUID().toString().substring(0, 6);
    private static final String M3 = "listed-" + UUID.randomUUID().toString().substring(0, 6);
    /** Completed jobs of TEAM: a and b become M1's versions, c is M2's, d is M3's. */
    private static String jobA;
    private static String jobB;
    private static String jobC;
    private static String jobD;
    private static String gatedJob;
    private static String dataset;

    @BeforeEach
    void completedJobs() {
        if (jobA != null) {
            return;
        }
        TrainingStack stack = RegistryTestPeers.stack;
        dataset = stack.readyDataset(TEAM, SAMPLE);
        jobA = stack.completedJob(TEAM, "scout", dataset);
        jobB = stack.completedJob(TEAM, "scout", dataset);
        jobC = stack.completedJob(TEAM, "scout", dataset);
        jobD = stack.completedJob(TEAM, "scout", dataset);
        gatedJob = stack.completedJob(RegistryTestPeers.GATED, "scout",
                stack.readyDataset(RegistryTestPeers.GATED, SAMPLE));
    }

    static RequestSpecification as(String team) {
        return given().header("x-mlinfra-identity", TestIdentities.token(team, "read", "write"));
    }

    static Map<String, Object> registration(String modelId, String job, String stage) {
        Map<String, Object> body = new HashMap<>();
        body.put("model_id", modelId);
        body.put("model_type", "scout");
        body.put("description", "Scout for GitOps issues");
        body.put("training_job_id", job);
        body.put("metrics", Map.of("accuracy", 0.85, "f1", 0.87));
        if (stage != null) {
            body.put("stage", stage);
        }
        return body;
    }

    static JsonPath register(String team, Map<String, Object> body) {
        return as(team).contentType(ContentType.JSON).body(body).post("/v1/models/register").then().statusCode(200)
                .extract().jsonPath();
    }

    private static void refused(String team, Map<String, Object> body, int status, String... parts) {
        var then = as(team).contentType(ContentType.JSON).body(body).post("/v1/models/register").then().statusCode(status)
                .body("error.status", equalTo(status));
        for (String part : parts) {
            then.body("error.message", containsString(part));
        }
    }

    @Test
    @Order(1)
    void aCompletedJobBecomesTheModelsFirstVersionWithTheMetricsItsJobMeasured() {
        JsonPath registered = register(TEAM, registration(M1, jobA, null));
        assertEquals(M1, registered.getString("model_id"));
        assertEquals("scout", registered.getString("model_type"));
        assertEquals("active", registered.getString("status"));
        assertEquals("none", registered.getString("stage"));
        assertEquals("v1.0.0", registered.getString("version"));
        assertEquals("Scout for GitOps issues", registered.getString("description"));
        assertTrue(registered.getString("created_at").matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ"));
        assertEquals(jobA, registered.getString("training_job_id"));
        JsonPath job = RegistryTestPeers.stack.job(TEAM, jobA);
        assertEquals(job.getMap("metrics"), registered.getMap("metrics"), "the evaluated metrics are the job's");
        assertEquals(Map.of("accuracy", 0.85f, "f1", 0.87f), registered.getMap("reported_metrics"));
        assertEquals(job.getString("artifacts.adapter"), registered.getString("artifact"));

        as(TEAM).get("/v1/models/" + M1).then().statusCode(200).body("model_id", equalTo(M1)).body("version", equalTo("v1.0.0"))
                .body("versions", equalTo(1)).body("updated_at", notNullValue()).body("training_job_id", equalTo(jobA))
                .body("metrics.eval_loss", notNullValue());
    }

    @Test
    @Order(2)
    void anotherJobUnderTheSameIdIsItsNextVersionAndAJobIsRegisteredOnlyOnce() {
        Map<String, Object> body = registration(M1, jobB, null);
        String key = "register-" + UUID.randomUUID();
        JsonPath second = as(TEAM).contentType(ContentType.JSON).header("Idempotency-Key", key).body(body)
                .post("/v1/models/register").then().statusCode(200).extract().jsonPath();
        assertEquals("v1.1.0", second.getString("version"));
        assertEquals(2, second.getInt("versions"));
        // A retry of it (a lost answer), its fields in another order, gets that version: no 409, no third version.
        List<String> names = new ArrayList<>(body.keySet());
        Collections.reverse(names);
        Map<String, Object> reordered = new LinkedHashMap<>();
        names.forEach(name -> reordered.put(name, body.get(name)));
        as(TEAM).contentType(ContentType.JSON).header("Idempotency-Key", key).body(reordered).post("/v1/models/register")
                .then().statusCode(200).body("version", equalTo("v1.1.0")).body("versions", equalTo(2))
                .body("training_job_id", equalTo(jobB));
        // The key with another registration is refused.
        Map<String, Object> other = new HashMap<>(body);
        other.put("description", "another description");
        as(TEAM).contentType(ContentType.JSON).header("Idempotency-Key", key).body(other).post("/v1/models/register")
                .then().statusCode(409).body("error.message", containsString("Idempotency-Key '" + key + "' was used for"
                        + " another registration (model '" + M1 + "' version v1.1.0)"));
        as(TEAM).contentType(ContentType.JSON).header("Idempotency-Key", "a key").body(body).post("/v1/models/register")
                .then().statusCode(400).body("error.message", containsString("Idempotency-Key"));
        refused(TEAM, registration(M1, jobA, null), 409, "Training job '" + jobA + "' is registered already",
                "version v1.0.0");
        refused(TEAM, registration("another-" + M1, jobB, null), 409, "is registered already");
        as(TEAM).get("/v1/models/" + M1 + "/versions").then().statusCode(200)
                .body("versions.version", contains("v1.1.0", "v1.0.0"))
                .body("versions.training_job_id", contains(jobB, jobA));
    }

    @Test
    @Order(3)
    void invalidRegistrationsNameTheField() {
        Map<String, Object> badId = registration("AB", jobC, null);
        refused(TEAM, badId, 400, "'model_id'");
        refused(TEAM, registration("...", jobC, null), 400, "'model_id'", "starting with a letter or digit");
        Map<String, Object> noJob = registration(M2, jobC, null);
        noJob.remove("training_job_id");
        refused(TEAM, noJob, 400, "'training_job_id'");
        // An id no job can have is refused here, without being echoed, and is never sent to
        // training-service: however often it comes, the next registration is answered as usual.
        String longId = "t".repeat(10_000);
        for (int i = 0; i < 12; i++) {
            as(TEAM).contentType(ContentType.JSON).body(registration(M2, longId, null)).post("/v1/models/register").then()
                    .statusCode(400).body("error.message", containsString("'training_job_id'"))
                    .body("error.message", not(containsString("tttttttttt")));
        }
        refused(TEAM, registration(M2, "a b", null), 400, "'training_job_id'", "like train-100001");
        refused(TEAM, registration(M2, jobC, "beta"), 400, "'stage'", "none, staging, production, archived");
        Map<String, Object> maverick = registration(M2, jobC, null);
        maverick.put("model_type", "maverick");
        refused(TEAM, maverick, 400, "'model_type'", "fine-tuned scout");
        Map<String, Object> unknownField = registration(M2, jobC, null);
        unknownField.put("framework", "peft");
        refused(TEAM, unknownField, 400, "Unknown field 'framework'");
        Map<String, Object> wordMetric = registration(M2, jobC, null);
        wordMetric.put("metrics", Map.of("accuracy", "high"));
        refused(TEAM, wordMetric, 400, "'metrics.accuracy'");
        // A metric name that is empty, blank or holds control characters was stored as sent.
        for (String badName : List.of("", " ", "a\u0001b")) {
            Map<String, Object> badMetric = registration(M2, jobC, null);
            badMetric.put("metrics", Map.of(badName, 1));
            refused(TEAM, badMetric, 400, "Invalid metric name in field 'metrics'", "1-100 letters, digits");
        }
        // An empty training job id is told the rule it breaks, not that it is missing.
        Map<String, Object> emptyJob = registration(M2, "", null);
        as(TEAM).contentType(ContentType.JSON).body(emptyJob).post("/v1/models/register").then().statusCode(400)
                .body("error.message", containsString("like train-100001")).body("error.message", not(containsString("required")));
        // 1e400 reads as infinity, which was stored and answered as the string "Infinity".
        as(TEAM).contentType(ContentType.JSON).body("{\"model_id\": \"" + M2 + "\", \"model_type\": \"scout\","
                + " \"training_job_id\": \"" + jobC + "\", \"metrics\": {\"f1\": 1e400}}").post("/v1/models/register").then()
                .statusCode(400).body("error.message", equalTo("Invalid value for field 'metrics.f1': the number is too large"
                        + " to store; send a finite number"));
        // PostgreSQL keeps no NUL character, in text or in JSON: a 400, and nothing stored.
        Map<String, Object> nulText = registration(M2, jobC, null);
        nulText.put("description", "Scout\u0000 for GitOps issues");
        refused(TEAM, nulText, 400, "NUL character");
        Map<String, Object> nulMetric = registration(M2, jobC, null);
        nulMetric.put("metrics", Map.of("accuracy\u0000", 0.5));
        refused(TEAM, nulMetric, 400, "Invalid metric name in field 'metrics'");
        as(TEAM).get("/v1/models/" + M2).then().statusCode(404);
        refused(TEAM, registration(M2, "train-1", null), 404, "Training job 'train-1' not found");
        refused("stranger-" + TEAM, registration(M2, jobC, null), 404, "Training job '" + jobC + "' not found");
        // A job that is not completed yet.
        String running = RegistryTestPeers.stack.startJob(TEAM, "scout", dataset, Map.of("epochs", 3));
        refused(TEAM, registration(M2, running, null), 409, "only a completed job can be registered");
        given().baseUri(RegistryTestPeers.stack.training().url())
                .header("x-mlinfra-identity", TestIdentities.token(TEAM, "read", "write"))
                .post("/v1/training/jobs/" + running + "/cancel").then().statusCode(200);
        // A full fine-tune: serving loads LoRA adapters, so it is refused before it could replace a serving version.
        Map<String, Object> full = new HashMap<>(TrainingStack.SHORT_JOB);
        full.put("use_lora", false);
        String fullJob = RegistryTestPeers.stack.startJob(TEAM, "scout", dataset, full);
        RegistryTestPeers.stack.awaitCompleted(TEAM, fullJob);
        refused(TEAM, registration(M2, fullJob, "production"), 409, "Training job '" + fullJob + "' fine-tuned every weight"
                + " (use_lora: false)", "use_lora: true");
        as(TEAM).get("/v1/models/" + M2).then().statusCode(404);
    }

    @Test
    @Order(4)
    void aNewProductionVersionArchivesTheOneBeforeAndEveryMoveIsInTheHistory() {
        as(TEAM).contentType(ContentType.JSON).body(Map.of("stage", "production", "version", "v1.0.0"))
                .post("/v1/models/" + M1 + "/stage").then().statusCode(200)
                .body("stage", equalTo("production")).body("version", equalTo("v1.0.0")).body("updated_at", notNullValue())
                .body("message", equalTo("Version v1.0.0 is in production"));
        as(TEAM).get("/v1/models/" + M1).then().body("version", equalTo("v1.0.0")).body("stage", equalTo("production"));
        // Without a version: the newest.
        as(TEAM).contentType(ContentType.JSON).body(Map.of("stage", "production")).post("/v1/models/" + M1 + "/stage")
                .then().statusCode(200).body("version", equalTo("v1.1.0")).body("stage", equalTo("production"))
                .body("message", containsString("v1.0.0, in production before, is archived"));
        as(TEAM).get("/v1/models/" + M1 + "/versions").then().body("versions.stage", contains("production", "archived"));
        as(TEAM).get("/v1/models/" + M1).then().body("version", equalTo("v1.1.0")).body("status", equalTo("active"));
        // Moving to the stage it is in changes nothing.
        as(TEAM).contentType(ContentType.JSON).body(Map.of("stage", "production")).post("/v1/models/" + M1 + "/stage")
                .then().statusCode(200).body("message", containsString("already"));
        as(TEAM).contentType(ContentType.JSON).body(Map.of("stage", "archived", "version", "v1.0.0"))
                .post("/v1/models/" + M1 + "/stage").then().statusCode(200)
                .body("message", equalTo("Version v1.0.0 is archived already"));
        as(TEAM).contentType(ContentType.JSON).body(Map.of("stage", "staging", "version", "v9.9.9"))
                .post("/v1/models/" + M1 + "/stage").then().statusCode(404).body("error.message", containsString("v9.9.9"));
        as(TEAM).contentType(ContentType.JSON).body(Map.of("stage", "live")).post("/v1/models/" + M1 + "/stage")
                .then().statusCode(400).body("error.message", containsString("'stage'"));

        JsonPath history = as(TEAM).get("/v1/models/" + M1 + "/history").then().statusCode(200).extract().jsonPath();
        assertEquals(List.of("v1.1.0", "v1.0.0", "v1.0.0", "v1.1.0", "v1.0.0"), history.getList("history.version"));
        assertEquals(List.of("production", "archived", "production", "none", "none"), history.getList("history.to_stage"));
        assertNull(history.getString("history[1].changed_by"), "the registry archived it");
        assertTrue(history.getMap("history[1]").containsKey("changed_by"), "present as null: " + history.prettify());
        assertEquals("production", history.getString("history[1].from_stage"));
        assertTrue(history.getMap("history[4]").containsKey("from_stage"), "present as null: " + history.prettify());
        assertNull(history.getString("history[4].from_stage"), "registered");
        assertEquals(TEAM, history.getString("history[0].team"));
        assertEquals("test-" + TEAM, history.getString("history[0].changed_by"));

        // Archiving its last live version makes the model inactive.
        as(TEAM).contentType(ContentType.JSON).body(Map.of("stage", "archived")).post("/v1/models/" + M1 + "/stage")
                .then().statusCode(200);
        as(TEAM).get("/v1/models/" + M1).then().body("status", equalTo("inactive")).body("stage", equalTo("archived"));
    }

    @Test
    @Order(5)
    void aPromotionGateRefusesNamingTheMetricItsValueAndTheThreshold() {
        String gated = "gated-" + UUID.randomUUID().toString().substring(0, 6);
        refused(RegistryTestPeers.GATED, registration(gated, gatedJob, "production"), 409, "cannot be registered into production",
                "f1 >= 0.8");
        register(RegistryTestPeers.GATED, registration(gated, gatedJob, "staging"));
        as(RegistryTestPeers.GATED).contentType(ContentType.JSON).body(Map.of("stage", "production"))
                .post("/v1/models/" + gated + "/stage").then().statusCode(409)
                .body("error.message", containsString("Promotion of version v1.0.0 of '" + gated + "' to production refused: f1 is "))
                .body("error.message", containsString("the gate of team '" + RegistryTestPeers.GATED + "' for production requires f1 >= 0.8"));
        as(RegistryTestPeers.GATED).get("/v1/models/" + gated).then().body("stage", equalTo("staging"));
        // Other teams have no gate.
        register(TEAM, registration(M2, jobC, "production"));
    }

    @Test
    @Order(6)
    void aModelInProductionIsDeletedOnlyWithForceAndItsJobsArtifactsStay() {
        as(TEAM).delete("/v1/models/" + M2).then().statusCode(409)
                .body("error.message", containsString("v1.0.0 in production")).body("error.message", containsString("force=true"));
        as(TEAM).queryParam("force", "maybe").delete("/v1/models/" + M2).then().statusCode(400);
        as(TEAM).queryParam("force", "true").delete("/v1/models/" + M2).then().statusCode(200)
                .body("model_id", equalTo(M2)).body("status", equalTo("deleted")).body("message", notNullValue());
        as(TEAM).get("/v1/models/" + M2).then().statusCode(404).body("error.code", equalTo("not_found"));
        JsonPath job = RegistryTestPeers.stack.job(TEAM, jobC);
        assertEquals("completed", job.getString("status"));
        assertTrue(job.getString("artifacts.adapter").startsWith("s3://"));
        // The job can be registered again now.
        register(TEAM, registration(M3, jobD, "staging"));
        register(TEAM, registration(M2, jobC, null));
    }

    @Test
    @Order(7)
    void listsFilterPaginateNewestFirstAndStayWithinTheTeam() {
        as(TEAM).get("/v1/models").then().statusCode(200).body("total", equalTo(3)).body("limit", equalTo(10))
                .body("offset", equalTo(0)).body("models.model_id", contains(M2, M3, M1))
                .body("models[0].keySet()", org.hamcrest.Matchers.containsInAnyOrder("model_id", "model_type", "created_at",
                        "status", "description", "version", "stage"));
        as(TEAM).queryParam("status", "inactive").get("/v1/models").then().body("models.model_id", contains(M1));
        as(TEAM).queryParam("status", "active").get("/v1/models").then().body("total", equalTo(2));
        as(TEAM).queryParam("stage", "staging").get("/v1/models").then().body("models.model_id", contains(M3));
        as(TEAM).queryParam("model_type", "maverick").get("/v1/models").then().body("total", equalTo(0));
        as(TEAM).queryParam("limit", "1").queryParam("offset", "1").get("/v1/models").then()
                .body("total", equalTo(3)).body("models", hasSize(1)).body("models[0].model_id", equalTo(M3));
        as(TEAM).queryParam("status", "retired").get("/v1/models").then().statusCode(400)
                .body("error.message", containsString("'status'"));
        as(TEAM).queryParam("stage", "beta").get("/v1/models").then().statusCode(400);
        as(TEAM).queryParam("model_type", "llama").get("/v1/models").then().statusCode(400);
        as("stranger-" + TEAM).get("/v1/models").then().body("total", equalTo(0))
                .body("models.model_id", not(hasItem(M1)));
    }

    @Test
    @Order(8)
    void anotherTeamsModelIsNotFoundEverywhere() {
        String stranger = "stranger-" + TEAM;
        as(stranger).get("/v1/models/" + M1).then().statusCode(404);
        as(stranger).get("/v1/models/" + M1 + "/versions").then().statusCode(404);
        as(stranger).get("/v1/models/" + M1 + "/history").then().statusCode(404);
        as(stranger).contentType(ContentType.JSON).body(Map.of("stage", "staging")).post("/v1/models/" + M1 + "/stage")
                .then().statusCode(404);
        as(stranger).queryParam("force", "true").delete("/v1/models/" + M1).then().statusCode(404);
        as(TEAM).get("/v1/models/" + M1).then().statusCode(200);
    }

    @Test
    @Order(9)
    void everyChangeIsAnnouncedWithWhatServingItNeeds() throws Exception {
        List<JsonNode> m1 = events(M1, 7);
        assertEquals(List.of("model.registered", "model.registered", "model.stage_changed", "model.stage_changed",
                "model.stage_changed", "model.stage_changed"), m1.stream().limit(6).map(e -> e.get("type").asText()).toList());
        JsonNode first = m1.get(0);
        assertEquals(TEAM, first.get("team").asText());
        assertEquals("registry-service", first.get("source").asText());
        JsonNode data = first.get("data");
        assertEquals(M1, data.get("model_id").asText());
        assertEquals("v1.0.0", data.get("version").asText());
        assertEquals("scout", data.get("model_type").asText());
        assertEquals("none", data.get("stage").asText());
        assertEquals(jobA, data.get("training_job_id").asText());
        assertTrue(data.get("artifact").asText().startsWith("s3://"));
        JsonNode archived = m1.get(3).get("data");
        assertEquals("v1.0.0", archived.get("version").asText());
        assertEquals("production", archived.get("from_stage").asText());
        assertEquals("archived", archived.get("stage").asText());
        assertEquals("v1.1.0", m1.get(4).get("data").get("version").asText());
        assertEquals("production", m1.get(4).get("data").get("stage").asText());

        List<JsonNode> m2 = events(M2, 4);
        JsonNode deleted = m2.stream().filter(e -> e.get("type").asText().equals("model.deleted")).findFirst().orElseThrow();
        assertEquals(List.of("v1.0.0"), JSON.convertValue(deleted.get("data").get("versions"), List.class));
    }

    @Test
    @Order(10)
    void registrationsAtTheSameTimeOfOneNewModelBothLandAndOfOneJobLandOnce() throws Exception {
        for (String model : List.of(M1, M2, M3)) {
            as(TEAM).queryParam("force", "true").delete("/v1/models/" + model).then().statusCode(200);
        }
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 4; round++) {
                // Two jobs create the same model: one gets its first version, the other the next.
                String model = "raced-" + round + "-" + UUID.randomUUID().toString().substring(0, 6);
                List<Response> both = atOnce(pool, registration(model, jobA, null), registration(model, jobB, null));
                for (Response r : both) {
                    assertEquals(200, r.statusCode(), r.asString());
                }
                assertEquals(List.of("v1.0.0", "v1.1.0"), both.stream().map(r -> r.jsonPath().getString("version")).sorted().toList());
                as(TEAM).queryParam("force", "true").delete("/v1/models/" + model).then().statusCode(200);

                // One job twice: registered once, the other request told so.
                String twice = "twice-" + round + "-" + UUID.randomUUID().toString().substring(0, 6);
                List<Response> same = atOnce(pool, registration(twice, jobC, null), registration(twice, jobC, null));
                assertEquals(List.of(200, 409), same.stream().map(Response::statusCode).sorted().toList(),
                        same.get(0).asString() + " / " + same.get(1).asString());
                Response refusal = same.stream().filter(r -> r.statusCode() == 409).findFirst().orElseThrow();
                assertTrue(refusal.jsonPath().getString("error.message").contains("is registered already"), refusal.asString());
                as(TEAM).get("/v1/models/" + twice + "/versions").then().statusCode(200).body("versions", hasSize(1));
                as(TEAM).queryParam("force", "true").delete("/v1/models/" + twice).then().statusCode(200);

                // One request twice at once with its Idempotency-Key (a retry racing the first try): both get the version.
                String retried = "retried-" + round + "-" + UUID.randomUUID().toString().substring(0, 6);
                List<Response> replayed = atOnce(pool, "race-" + UUID.randomUUID(), registration(retried, jobD, null),
                        registration(retried, jobD, null));
                for (Response r : replayed) {
                    assertEquals(200, r.statusCode(), r.asString());
                    assertEquals("v1.0.0", r.jsonPath().getString("version"), r.asString());
                }
                as(TEAM).get("/v1/models/" + retried + "/versions").then().statusCode(200).body("versions", hasSize(1));
                as(TEAM).queryParam("force", "true").delete("/v1/models/" + retried).then().statusCode(200);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Four jobs into one new model at once, each sent twice with its own Idempotency-Key (retries racing
     * their first tries and each other): every request gets its job's version, the versions unique.
     */
    @Test
    @Order(11)
    void retriesOfRegistrationsIntoOneNewModelAtOnceAllGetTheirVersion() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            for (int round = 0; round < 3; round++) {
                String model = "crowd-" + round + "-" + UUID.randomUUID().toString().substring(0, 6);
                List<Map.Entry<String, Map<String, Object>>> requests = new ArrayList<>();
                for (String job : List.of(jobA, jobB, jobC, jobD)) {
                    String key = "crowd-" + job + "-" + UUID.randomUUID();
                    requests.add(Map.entry(key, registration(model, job, null)));
                    requests.add(Map.entry(key, registration(model, job, null)));
                }
                List<Response> answers = atOnce(pool, requests);
                Map<String, String> versionOfKey = new java.util.HashMap<>();
                for (int i = 0; i < answers.size(); i++) {
                    Response r = answers.get(i);
                    assertEquals(200, r.statusCode(), r.asString());
                    String earlier = versionOfKey.putIfAbsent(requests.get(i).getKey(), r.jsonPath().getString("version"));
                    if (earlier != null) {
                        assertEquals(earlier, r.jsonPath().getString("version"), "both tries of one key get one version");
                    }
                }
                assertEquals(List.of("v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0"), versionOfKey.values().stream().sorted().toList());
                as(TEAM).get("/v1/models/" + model + "/versions").then().statusCode(200).body("versions", hasSize(4));
                as(TEAM).queryParam("force", "true").delete("/v1/models/" + model).then().statusCode(200);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Two registrations sent at the same moment. */
    private static List<Response> atOnce(ExecutorService pool, Map<String, Object> a, Map<String, Object> b) throws Exception {
        return atOnce(pool, null, a, b);
    }

    /** Two registrations sent at the same moment, both with the Idempotency-Key (null: none). */
    private static List<Response> atOnce(ExecutorService pool, String key, Map<String, Object> a, Map<String, Object> b)
            throws Exception {
        return atOnce(pool, List.of(new java.util.AbstractMap.SimpleEntry<>(key, a), new java.util.AbstractMap.SimpleEntry<>(key, b)));
    }

    /** Registrations (an Idempotency-Key, null for none, and a body each) sent at the same moment; their answers in order. */
    private static List<Response> atOnce(ExecutorService pool, List<? extends Map.Entry<String, Map<String, Object>>> requests)
            throws Exception {
        CyclicBarrier start = new CyclicBarrier(requests.size());
        List<Future<Response>> calls = new ArrayList<>();
        for (Map.Entry<String, Map<String, Object>> r : requests) {
            calls.add(pool.submit(() -> {
                start.await();
                RequestSpecification request = as(TEAM).contentType(ContentType.JSON).body(r.getValue());
                return (r.getKey() == null ? request : request.header("Idempotency-Key", r.getKey()))
                        .post("/v1/models/register").andReturn();
            }));
        }
        List<Response> answers = new ArrayList<>();
        for (Future<Response> call : calls) {
            answers.add(call.get(60, TimeUnit.SECONDS));
        }
        return answers;
    }

    private static List<JsonNode> events(String subject, int expected) throws Exception {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<JsonNode> found = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of("mlinfra.models"));
            while (found.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    if (subject.equals(r.key())) {
                        found.add(JSON.readTree(r.value()));
                    }
                }
            }
        }
        return found;
    }
}
