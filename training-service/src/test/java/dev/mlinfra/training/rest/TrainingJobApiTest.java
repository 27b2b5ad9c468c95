package dev.mlinfra.training.rest;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.error.ErrorMappers;
import dev.mlinfra.testsupport.Devstack;
import dev.mlinfra.testsupport.DevstackResource;
import dev.mlinfra.testsupport.LogCapture;
import dev.mlinfra.testsupport.RawHttp;
import dev.mlinfra.testsupport.TestIdentities;
import dev.mlinfra.training.TrainingTestPeers;
import dev.mlinfra.training.backend.TrainerExit;
import dev.mlinfra.training.service.TrainerEnds;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Training API against the real dataset-service, PostgreSQL and Kafka. No GPU ledger runs
 * here, so every job stays queued; trainers are run by the flow tests through the gateway.
 */
@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "training"))
@QuarkusTestResource(value = TrainingTestPeers.class, restrictToAnnotatedClass = true)
class TrainingJobApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static String team;
    private static String ready;

    @BeforeAll
    static void datasets() {
        team = "team-" + UUID.randomUUID().toString().substring(0, 6);
        ready = TrainingTestPeers.dataset(team, TrainingTestPeers.SAMPLE);
    }

    static RequestSpecification as(String team) {
        return given().header("x-mlinfra-identity", TestIdentities.token(team, "read", "write"));
    }

    static Map<String, Object> body(String dataset, Map<String, Object> config) {
        Map<String, Object> body = new HashMap<>();
        body.put("model_type", "scout");
        body.put("dataset_id", dataset);
        body.put("config", config);
        body.put("experiment_name", "api-test");
        body.put("description", "from the API test");
        return body;
    }

    static JsonPath start(String team, Map<String, Object> body) {
        return as(team).contentType(ContentType.JSON).body(body).post("/v1/training/jobs")
                .then().statusCode(200).extract().jsonPath();
    }

    private static void refused(Map<String, Object> body, int status, String... parts) {
        var response = as(team).contentType(ContentType.JSON).body(body).post("/v1/training/jobs").then().statusCode(status)
                .body("error.status", equalTo(status));
        for (String part : parts) {
            response.body("error.message", containsString(part));
        }
    }

    @Test
    void aJobOnAReadyDatasetIsQueuedWithTheContractsFields() {
        JsonPath job = start(team, body(ready, Map.of("learning_rate", 0.004, "batch_size", 8, "epochs", 2, "use_lora", true,
                "lora_r", 16, "lora_alpha", 32, "lora_dropout", 0.05)));
        String jobId = job.getString("job_id");
        assertTrue(jobId.matches("train-\\d+"), jobId);
        assertEquals("queued", job.getString("status"));
        assertEquals("scout", job.getString("model_type"));
        assertEquals(ready, job.getString("dataset_id"));
        assertEquals("api-test", job.getString("experiment_name"));
        assertTrue(job.getString("created_at").matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ"), job.getString("created_at"));

        as(team).get("/v1/training/jobs/" + jobId).then().statusCode(200)
                .body("job_id", equalTo(jobId)).body("status", equalTo("queued"))
                .body("config.learning_rate", equalTo(0.004f)).body("config.lora_r", equalTo(16))
                .body("description", equalTo("from the API test"))
                .body("progress", nullValue()).body("started_at", nullValue()).body("metrics", nullValue());
        as(team).get("/v1/training/jobs").then().statusCode(200).body("jobs.job_id", org.hamcrest.Matchers.hasItem(jobId));
    }

    @Test
    void invalidRequestsNameTheFieldAndTheBound() {
        Map<String, Object> noType = body(ready, Map.of());
        noType.remove("model_type");
        refused(noType, 400, "'model_type'");
        Map<String, Object> badType = body(ready, Map.of());
        badType.put("model_type", "behemoth");
        refused(badType, 400, "'model_type'", "scout, maverick", "behemoth");
        Map<String, Object> noDataset = body(ready, Map.of());
        noDataset.remove("dataset_id");
        refused(noDataset, 400, "'dataset_id'");
        // no dataset has such an id: refused here, not asked of dataset-service (whose request line it would not fit)
        Map<String, Object> longDataset = body(ready, Map.of());
        longDataset.put("dataset_id", "d".repeat(5000));
        refused(longDataset, 400, "'dataset_id'", "at most 63 characters");
        // PostgreSQL keeps no NUL character: a 400, not a failure of the store
        Map<String, Object> nulDescription = body(ready, Map.of());
        nulDescription.put("description", "Scout\u0000 on GitOps issues");
        refused(nulDescription, 400, "NUL character");
        refused(body(ready, Map.of("lr", 0.1)), 400, "Unknown field 'config.lr'", "learning_rate");
        Map<String, Object> extra = body(ready, Map.of());
        extra.put("priority", "high");
        refused(extra, 400, "Unknown field 'priority'");
        refused(body(ready, Map.of("learning_rate", 0)), 400, "'config.learning_rate' must be > 0");
        refused(body(ready, Map.of("learning_rate", 1.5)), 400, "'config.learning_rate' must be <= 1");
        refused(body(ready, Map.of("batch_size", 0)), 400, "'config.batch_size' must be >= 1");
        refused(body(ready, Map.of("batch_size", 1025)), 400, "'config.batch_size' must be <= 1024");
        refused(body(ready, Map.of("epochs", 0)), 400, "'config.epochs' must be >= 1");
        refused(body(ready, Map.of("epochs", 101)), 400, "'config.epochs' must be <= 100");
        refused(body(ready, Map.of("lora_r", 0)), 400, "'config.lora_r' must be >= 1");
        refused(body(ready, Map.of("lora_r", 257)), 400, "'config.lora_r' must be <= 256");
        refused(body(ready, Map.of("lora_alpha", 0)), 400, "'config.lora_alpha' must be > 0");
        refused(body(ready, Map.of("lora_dropout", 1)), 400, "'config.lora_dropout' must be < 1");
        refused(body(ready, Map.of("lora_dropout", -0.1)), 400, "'config.lora_dropout' must be >= 0");
        refused(body(ready, Map.of("max_seq_len", 10)), 400, "'config.max_seq_len' must be >= 64");
        refused(body(ready, Map.of("validation_fraction", 0.9)), 400, "'config.validation_fraction' must be <= 0.5");
        refused(body(ready, Map.of("batch_size", "eight")), 400, "'config.batch_size'", "integer");
        // A value of another JSON type is refused, never converted: 3.9 epochs would have run 3.
        refused(body(ready, Map.of("epochs", 3.9)), 400, "'config.epochs'", "integer");
        refused(body(ready, Map.of("max_steps", "2")), 400, "'config.max_steps'", "integer");
        // Not even the texts that Jackson reads as numbers of their own: "NaN" passed every bound.
        refused(body(ready, Map.of("lora_alpha", "NaN")), 400, "'config.lora_alpha'", "got 'NaN'");
        refused(body(ready, Map.of("learning_rate", "Infinity")), 400, "'config.learning_rate'", "got 'Infinity'");
        refused(body(ready, Map.of("use_lora", 1)), 400, "'config.use_lora'", "true or false");
        Map<String, Object> numberAsName = body(ready, Map.of());
        numberAsName.put("experiment_name", 5);
        refused(numberAsName, 400, "'experiment_name'");
        // An empty name or description is none, as if left out.
        Map<String, Object> unnamed = body(ready, Map.of());
        unnamed.put("experiment_name", "");
        unnamed.put("description", " ");
        String unnamedId = start(team, unnamed).getString("job_id");
        as(team).get("/v1/training/jobs/" + unnamedId).then().statusCode(200).body("experiment_name", nullValue())
                .body("description", nullValue());
        as(team).post("/v1/training/jobs/" + unnamedId + "/cancel").then().statusCode(200);
        as(team).contentType(ContentType.JSON).body("{\"model_type\": \"scout\",").post("/v1/training/jobs").then()
                .statusCode(400).body("error.message", containsString("not valid JSON"));
        // A field given twice is refused, not read as its last value: 5 epochs would have run on a body that says 1.
        as(team).contentType(ContentType.JSON).body("{\"model_type\": \"scout\", \"dataset_id\": \"" + ready
                + "\", \"config\": {\"epochs\": 1, \"epochs\": 5}}").post("/v1/training/jobs").then().statusCode(400)
                .body("error.message", startsWith("Field 'config.epochs' is given twice in the request body"));
        as(team).contentType(ContentType.JSON).header("Idempotency-Key", "has spaces").body(body(ready, Map.of()))
                .post("/v1/training/jobs").then().statusCode(400).body("error.message", containsString("Idempotency-Key"));
        // An empty key is no key: refused, or each retry would start another job.
        as(team).contentType(ContentType.JSON).header("Idempotency-Key", "").body(body(ready, Map.of()))
                .post("/v1/training/jobs").then().statusCode(400).body("error.message", containsString("Idempotency-Key"));
        // Two keys: a retry with either alone would find another job than the one started.
        as(team).contentType(ContentType.JSON).header("Idempotency-Key", "dup-a").header("Idempotency-Key", "dup-b")
                .body(body(ready, Map.of())).post("/v1/training/jobs").then().statusCode(400)
                .body("error.message", equalTo("Header 'Idempotency-Key' is given 2 times; give it once"));
    }

    /**
     * A body of unknown length (chunked) over the service's limit (10 MiB): the HTTP layer answers 413 and
     * closes the connection; the client's mistake is no error in the service's log.
     */
    @Test
    void aChunkedBodyOverTheLimitIs413AndNoError() throws Exception {
        byte[] body = ("{\"model_type\": \"scout\", \"description\": \"" + "x".repeat(11 * 1024 * 1024) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        try (LogCapture errors = LogCapture.of(ErrorMappers.class)) {
            RawHttp.Answer answer = RawHttp.postChunked("127.0.0.1", RestAssured.port, "/v1/training/jobs",
                    Map.of("x-mlinfra-identity", TestIdentities.token("team-big", "read", "write"), "Content-Type", "application/json"),
                    body);
            assertEquals(413, answer.status(), answer.body());
            assertEquals(List.of(), errors.messages(org.jboss.logmanager.Level.ERROR));
        }
        as("team-big").get("/v1/training/jobs").then().statusCode(200).body("jobs", hasSize(0));
    }

    @Test
    void theDatasetMustBeTheCallersAndReady() throws Exception {
        refused(body("no-such-dataset", Map.of()), 404, "Dataset 'no-such-dataset' not found");
        String theirs = TrainingTestPeers.dataset("other-" + team, TrainingTestPeers.SAMPLE);
        refused(body(theirs, Map.of()), 404, "Dataset '" + theirs + "' not found");
        String pending = TrainingTestPeers.dataset(team, null);
        refused(body(pending, Map.of()), 409, "Dataset '" + pending + "' is pending");
        // Too few records to train on: said now, not once the job has waited for a GPU slot.
        Path one = Files.createTempFile("one-record", ".jsonl");
        Files.writeString(one, Files.readAllLines(TrainingTestPeers.SAMPLE).get(0) + "\n");
        String tiny = TrainingTestPeers.dataset(team, one);
        refused(body(tiny, Map.of()), 409, "Dataset '" + tiny + "' has 1 valid record; training needs at least 2");
    }

    @Test
    void aRetryWithTheSameIdempotencyKeyReturnsTheSameJob() {
        String owner = "idem-" + UUID.randomUUID().toString().substring(0, 6);
        String dataset = TrainingTestPeers.dataset(owner, TrainingTestPeers.SAMPLE);
        String key = "retry-" + UUID.randomUUID();
        Map<String, Object> request = body(dataset, Map.of("epochs", 1));
        String first = as(owner).contentType(ContentType.JSON).header("Idempotency-Key", key).body(request)
                .post("/v1/training/jobs").then().statusCode(200).extract().path("job_id");
        // The same request again, its fields in another order: the same job.
        String again = as(owner).contentType(ContentType.JSON).header("Idempotency-Key", key)
                .body("{\"config\": {\"epochs\": 1}, \"description\": \"from the API test\", \"experiment_name\": \"api-test\","
                        + " \"dataset_id\": \"" + dataset + "\", \"model_type\": \"scout\"}")
                .post("/v1/training/jobs").then().statusCode(200).extract().path("job_id");
        assertEquals(first, again);
        as(owner).get("/v1/training/jobs").then().body("total", equalTo(1));
        // Another request under the same key is refused; without a key it is a new job.
        as(owner).contentType(ContentType.JSON).header("Idempotency-Key", key).body(body(dataset, Map.of("epochs", 2)))
                .post("/v1/training/jobs").then().statusCode(409)
                .body("error.message", containsString("Idempotency-Key")).body("error.message", containsString(first));
        start(owner, request);
        as(owner).get("/v1/training/jobs").then().body("total", equalTo(2));
    }

    @Test
    void listsFilterPaginateNewestFirstAndStayWithinTheTeam() {
        String owner = "list-" + UUID.randomUUID().toString().substring(0, 6);
        String dataset = TrainingTestPeers.dataset(owner, TrainingTestPeers.SAMPLE);
        String a = start(owner, body(dataset, Map.of())).getString("job_id");
        Map<String, Object> maverick = body(dataset, Map.of());
        maverick.put("model_type", "maverick");
        String b = start(owner, maverick).getString("job_id");
        String c = start(owner, body(dataset, Map.of())).getString("job_id");
        as(owner).post("/v1/training/jobs/" + a + "/cancel").then().statusCode(200);

        as(owner).get("/v1/training/jobs").then().statusCode(200).body("total", equalTo(3)).body("limit", equalTo(10))
                .body("offset", equalTo(0)).body("jobs.job_id", contains(c, b, a))
                .body("jobs[0].keySet()", org.hamcrest.Matchers.containsInAnyOrder("job_id", "status", "created_at",
                        "model_type", "dataset_id", "experiment_name"));
        as(owner).queryParam("status", "queued").get("/v1/training/jobs").then().body("total", equalTo(2))
                .body("jobs.job_id", contains(c, b));
        as(owner).queryParam("status", "cancelled").get("/v1/training/jobs").then().body("jobs.job_id", contains(a));
        as(owner).queryParam("model_type", "maverick").get("/v1/training/jobs").then().body("jobs.job_id", contains(b));
        as(owner).queryParam("model_type", "scout").queryParam("status", "queued").get("/v1/training/jobs").then()
                .body("jobs.job_id", contains(c));
        as(owner).queryParam("limit", "1").queryParam("offset", "1").get("/v1/training/jobs").then()
                .body("total", equalTo(3)).body("jobs", hasSize(1)).body("jobs[0].job_id", equalTo(b));
        as(owner).queryParam("status", "paused").get("/v1/training/jobs").then().statusCode(400)
                .body("error.message", containsString("'status'")).body("error.message", containsString("cancelled"));
        as(owner).queryParam("model_type", "llama").get("/v1/training/jobs").then().statusCode(400)
                .body("error.message", containsString("'model_type'"));
        as(owner).queryParam("limit", "0").get("/v1/training/jobs").then().statusCode(400)
                .body("error.message", containsString("'limit'"));
        as("stranger-" + owner).get("/v1/training/jobs").then().body("total", equalTo(0));
    }

    @Test
    void cancellingAQueuedJobEndsItAtOnceAndOnlyOnce() {
        String jobId = start(team, body(ready, Map.of())).getString("job_id");
        as(team).post("/v1/training/jobs/" + jobId + "/cancel").then().statusCode(200)
                .body("job_id", equalTo(jobId)).body("status", equalTo("cancelled")).body("message", notNullValue());
        as(team).get("/v1/training/jobs/" + jobId).then().body("status", equalTo("cancelled"))
                .body("finished_at", notNullValue()).body("queue_position", nullValue());
        as(team).post("/v1/training/jobs/" + jobId + "/cancel").then().statusCode(409)
                .body("error.message", containsString("is cancelled"));
        as(team).post("/v1/training/jobs/train-1/cancel").then().statusCode(404)
                .body("error.message", containsString("train-1"));
    }

    @Inject
    dev.mlinfra.training.service.JobRunner runner;

    @Inject
    dev.mlinfra.training.repository.TrainingJobRepository repository;

    @Test
    void aTrainerEndedByTheCancelWhileStartingIsSaidToBe() throws Throwable {
        String jobId = start(team, body(ready, Map.of())).getString("job_id");
        TrainerEnds.launchedAndCancelling(repository, jobId);
        // SIGTERM before the trainer handles it (exit 143): it was starting, not late to stop
        TrainerEnds.handle(runner, new TrainerExit(jobId, TrainerExit.Outcome.FAILED, TrainerExit.KILLED_BY_SIGTERM,
                "the trainer process was killed by signal 15 (SIGTERM)", 1));
        as(team).get("/v1/training/jobs/" + jobId).then().body("status", equalTo("cancelled"));
        as(team).queryParam("limit", "1").get("/v1/training/jobs/" + jobId + "/events").then()
                .body("events[0].message", equalTo("Cancelled; the trainer was stopped while it was starting, before its first step"));
    }

    @Test
    void aTrainerAskedToStopIsLaunchedAgainWithoutUsingUpTheJobsLaunches() throws Throwable {
        // Its third launch (of 3) stopped after a checkpoint on SIGTERM (./mlinfra down): launched a fourth time.
        String jobId = start(team, body(ready, Map.of())).getString("job_id");
        TrainerEnds.running(repository, jobId, 3);
        assertNotNull(TrainerEnds.handle(runner, new TrainerExit(jobId, TrainerExit.Outcome.STOPPED, 3,
                "the trainer stopped after a checkpoint", 3)), "launched again");
        as(team).get("/v1/training/jobs/" + jobId).then().body("status", equalTo("running"));
        as(team).queryParam("limit", "1").get("/v1/training/jobs/" + jobId + "/events").then()
                .body("events[0].message", containsString("launching it again (launch 4; a stop after a checkpoint does not"
                        + " count against the 3 launches a job gets)"));
        // Lost then: the third launch that ended otherwise, the job's last.
        TrainerEnds.handle(runner, new TrainerExit(jobId, TrainerExit.Outcome.LOST, null, "no trainer runs for the job", 4));
        as(team).get("/v1/training/jobs/" + jobId).then().body("status", equalTo("failed"))
                .body("error", startsWith("the trainer ended 3 times without finishing (last: no trainer runs for the job)"));
    }

    @Test
    void reportsThatArriveAfterTheJobEndedKeepTheirCheckpointAndEvaluationOnly() throws Exception {
        // A trainer's exit is seen at once, its last reports come through Kafka: the job can end first.
        String jobId = start(team, body(ready, Map.of())).getString("job_id");
        as(team).post("/v1/training/jobs/" + jobId + "/cancel").then().statusCode(200).body("status", equalTo("cancelled"));
        String location = "s3://mlinfra/training/" + team + "/" + jobId + "/checkpoints/step-7/";
        report(jobId, "training.step", Map.of("step", 7, "total_steps", 20, "epoch", 1, "total_epochs", 1, "loss", 0.5));
        report(jobId, "training.checkpoint", Map.of("step", 7, "location", location));
        report(jobId, "training.evaluation", Map.of("num_examples", 3, "eval_loss", 1.5, "accuracy", 0.5, "f1", 0.5,
                "trajectory_similarity", 0.5));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (as(team).get("/v1/training/jobs/" + jobId + "/checkpoints").then().extract().jsonPath()
                .getList("checkpoints").isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        as(team).get("/v1/training/jobs/" + jobId + "/checkpoints").then().statusCode(200)
                .body("checkpoints.step", contains(7)).body("checkpoints.location", contains(location))
                .body("checkpoints[0]", hasKey("loss")).body("checkpoints[0].loss", nullValue());
        deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        List<String> types = List.of();
        while (!types.contains("evaluation") && System.nanoTime() < deadline) {
            Thread.sleep(200);
            types = as(team).get("/v1/training/jobs/" + jobId + "/events").then().extract().jsonPath().getList("events.type");
        }
        assertTrue(types.contains("checkpoint") && types.contains("evaluation"), types.toString());
        assertFalse(types.contains("step"), "how far an ended job got is settled: " + types);
        as(team).get("/v1/training/jobs/" + jobId).then().body("status", equalTo("cancelled")).body("progress", nullValue());
    }

    /** A trainer's report about {@code jobId}, as llm-engine publishes it. */
    private void report(String jobId, String type, Map<String, Object> data) throws Exception {
        Map<String, Object> envelope = new LinkedHashMap<>();
        envelope.put("id", UUID.randomUUID().toString());
        envelope.put("type", type);
        envelope.put("source", "llm-engine");
        envelope.put("time", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        envelope.put("team", team);
        envelope.put("subject", jobId);
        envelope.put("data", data);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>("mlinfra.training.progress", jobId, JSON.writeValueAsString(envelope))).get();
        }
    }

    @Test
    void anotherTeamsJobIsNotFoundEverywhere() {
        String jobId = start(team, body(ready, Map.of())).getString("job_id");
        String stranger = "stranger-" + team;
        as(stranger).get("/v1/training/jobs/" + jobId).then().statusCode(404).body("error.code", equalTo("not_found"));
        as(stranger).post("/v1/training/jobs/" + jobId + "/cancel").then().statusCode(404);
        as(stranger).get("/v1/training/jobs/" + jobId + "/events").then().statusCode(404);
        as(stranger).get("/v1/training/jobs/" + jobId + "/checkpoints").then().statusCode(404);
        as(team).get("/v1/training/jobs/" + jobId).then().statusCode(200).body("status", equalTo("queued"));
    }

    @Test
    void aJobsHistoryIsPagedAndStreamedAndAStreamResumesAfterItsLastEvent() throws Exception {
        String jobId = start(team, body(ready, Map.of())).getString("job_id");
        as(team).post("/v1/training/jobs/" + jobId + "/cancel").then().statusCode(200);
        JsonPath page = as(team).get("/v1/training/jobs/" + jobId + "/events").then().statusCode(200)
                .body("total", equalTo(2)).extract().jsonPath();
        assertEquals(List.of("status", "status"), page.getList("events.type"));
        assertEquals("cancelled", page.getString("events[0].data.status"), "newest first");
        assertEquals("queued", page.getString("events[1].data.status"));
        long first = page.getLong("events[1].id");
        long second = page.getLong("events[0].id");

        // The stream sends the history oldest first with event ids, and ends: the job is over.
        List<String> all = sse(jobId, null);
        assertEquals(List.of("id:" + first, "event:status", "id:" + second, "event:status"),
                all.stream().filter(l -> l.startsWith("id:") || l.startsWith("event:")).toList(), String.join("\n", all));
        assertTrue(all.stream().allMatch(l -> l.isEmpty() || l.startsWith("id:") || l.startsWith("event:")
                || l.startsWith("data:{")), "only SSE fields, data as JSON: " + String.join("\n", all));
        // Reconnecting after the first event gives exactly the rest.
        List<String> rest = sse(jobId, Long.toString(first));
        assertEquals(List.of("id:" + second), rest.stream().filter(l -> l.startsWith("id:")).toList());
        assertTrue(rest.stream().anyMatch(l -> l.startsWith("data:") && l.contains("\"cancelled\"")), String.join("\n", rest));
        as(team).header("Last-Event-ID", "yesterday").accept("text/event-stream")
                .get("/v1/training/jobs/" + jobId + "/events").then().statusCode(400);
        // An over-long value is said back cut short.
        as(team).header("Last-Event-ID", "9".repeat(5000)).accept("text/event-stream")
                .get("/v1/training/jobs/" + jobId + "/events").then().statusCode(400)
                .body("error.message", endsWith("...' (5000 characters)"));
        // Paging is for the history as JSON: the stream says that it takes none, not that the path does.
        as(team).accept("text/event-stream").queryParam("limit", "5").get("/v1/training/jobs/" + jobId + "/events").then()
                .statusCode(400).body("error.message",
                        equalTo("Unknown query parameter 'limit'; the event stream (Accept: text/event-stream) takes none"));
        as(team).queryParam("limt", "5").get("/v1/training/jobs/" + jobId + "/events").then()
                .statusCode(400).body("error.message", equalTo("Unknown query parameter 'limt'; this endpoint takes limit, offset"));
        // A type neither way of reading the history produces: 406 naming both; elsewhere JSON alone.
        as(team).accept("text/html").get("/v1/training/jobs/" + jobId + "/events").then().statusCode(406)
                .contentType(ContentType.JSON).body("error.code", equalTo("not_acceptable"))
                .body("error.message", endsWith("accept application/json or text/event-stream"));
        as(team).accept("text/html").get("/v1/training/jobs/" + jobId).then().statusCode(406)
                .body("error.message", endsWith("'text/html'; accept application/json"));
        // A job of another team, or none at all: a 404 with the error object, not a stream that breaks off.
        for (String[] whoAndWhat : new String[][] {{"stranger-" + team, jobId}, {team, "train-0"}}) {
            as(whoAndWhat[0]).accept("text/event-stream").get("/v1/training/jobs/" + whoAndWhat[1] + "/events").then()
                    .statusCode(404).contentType(ContentType.JSON).body("error.status", equalTo(404))
                    .body("error.message", containsString("'" + whoAndWhat[1] + "' not found"));
        }
    }

    @Test
    void aLiveStreamSendsTheLastEventsOfAJobThatEndsBetweenItsReads() throws Exception {
        String owner = "team-" + UUID.randomUUID().toString().substring(0, 6);
        String jobId = start(owner, body(TrainingTestPeers.dataset(owner, TrainingTestPeers.SAMPLE), Map.of())).getString("job_id");
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        HttpResponse<Stream<String>> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + RestAssured.port + "/v1/training/jobs/" + jobId + "/events"))
                .header("Accept", "text/event-stream").header("x-mlinfra-identity", TestIdentities.token(owner, "read"))
                .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, response.statusCode());
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            response.body().forEach(lines::add);
            lines.add("<end>");
        });
        assertEquals("event:status", awaitLine(lines, l -> l.startsWith("event:")).replace(": ", ":"), "the job's first event");

        // The job ends in a transaction that commits while the stream waits to read the job (its
        // table locked meanwhile): between the stream's read of the events and its read of the job,
        // had it read them in that order.
        try (Connection db = Devstack.connect("training")) {
            db.setAutoCommit(false);
            try (Statement s = db.createStatement()) {
                s.execute("LOCK TABLE training_job IN ACCESS EXCLUSIVE MODE");
            }
            try (Connection watcher = Devstack.connect("training");
                 PreparedStatement waiting = watcher.prepareStatement("SELECT count(*) FROM pg_stat_activity"
                         + " WHERE wait_event_type = 'Lock' AND query ~ 'from training_job \\w+ where \\w+\\.job_id=\\$1'")) {
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (true) {
                    try (ResultSet r = waiting.executeQuery()) {
                        r.next();
                        if (r.getLong(1) > 0) {
                            break;
                        }
                    }
                    assertTrue(System.nanoTime() < deadline, "the stream waits to read the job");
                    Thread.sleep(20);
                }
            }
            try (PreparedStatement event = db.prepareStatement("INSERT INTO training_job_event (job_id, type, message, data, created_at)"
                    + " VALUES (?, 'status', 'Job cancelled', '{\"status\": \"cancelled\", \"previous_status\": \"queued\"}', now())");
                 PreparedStatement job = db.prepareStatement("UPDATE training_job SET status = 'cancelled', finished_at = now(),"
                         + " updated_at = now() WHERE job_id = ?")) {
                event.setString(1, jobId);
                event.executeUpdate();
                job.setString(1, jobId);
                assertEquals(1, job.executeUpdate());
            }
            db.commit();
        }
        List<String> rest = new ArrayList<>();
        String line;
        while (!(line = awaitLine(lines, l -> true)).equals("<end>")) {
            rest.add(line.replace(": ", ":"));
        }
        reader.join(10_000);
        assertTrue(rest.stream().anyMatch(l -> l.startsWith("data:") && l.contains("\"cancelled\"")),
                "the stream ended with the job's last event: " + String.join("\n", rest));
    }

    /** The next line that matches, waiting up to 30 s for it. */
    private static String awaitLine(BlockingQueue<String> lines, Predicate<String> wanted) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            String line = lines.poll(100, TimeUnit.MILLISECONDS);
            if (line != null && wanted.test(line)) {
                return line;
            }
        }
        throw new AssertionError("no line of the stream within 30 s");
    }

    private static List<String> sse(String jobId, String lastEventId) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + RestAssured.port
                        + "/v1/training/jobs/" + jobId + "/events"))
                .header("Accept", "text/event-stream").header("x-mlinfra-identity", TestIdentities.token(team, "read"))
                .timeout(Duration.ofSeconds(30));
        if (lastEventId != null) {
            request.header("Last-Event-ID", lastEventId);
        }
        HttpResponse<java.io.InputStream> response = HttpClient.newHttpClient().send(request.build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<String> lines = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                lines.add(line.replace(": ", ":"));
            }
        }
        return lines;
    }

    @Test
    void transitionsAreAnnouncedAndCapacityIsAskedForAndGivenBack() throws Exception {
        String jobId = start(team, body(ready, Map.of())).getString("job_id");
        as(team).post("/v1/training/jobs/" + jobId + "/cancel").then().statusCode(200);
        String gpuTopic = ConfigProvider.getConfig().getValue("mlinfra.training.gpu-topic", String.class);
        List<JsonNode> training = events("mlinfra.training", jobId, 2);
        assertEquals(List.of("training.job.queued", "training.job.cancelled"), training.stream().map(e -> e.get("type").asText()).toList());
        assertEquals(team, training.get(0).get("team").asText());
        assertEquals(ready, training.get(0).get("data").get("dataset_id").asText());
        assertEquals("training-service", training.get(0).get("source").asText());
        List<JsonNode> gpu = events(gpuTopic, jobId, 2);
        assertEquals(List.of("gpu.requested", "gpu.released"), gpu.stream().map(e -> e.get("type").asText()).toList());
        assertEquals("scout", gpu.get(0).get("data").get("model_type").asText());
        assertEquals("training-service", gpu.get(0).get("data").get("requester").asText());
    }

    private static List<JsonNode> events(String topic, String subject, int expected) throws Exception {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<JsonNode> found = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
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

    @Test
    void aDatasetThatAnOpenJobTrainsOnCannotBeDeleted() throws Exception {
        String owner = "use-" + UUID.randomUUID().toString().substring(0, 6);
        String dataset = TrainingTestPeers.dataset(owner, TrainingTestPeers.SAMPLE);
        String jobId = start(owner, body(dataset, Map.of())).getString("job_id");
        as(owner).queryParam("dataset_id", dataset).get("/internal/v1/training/jobs").then().statusCode(200)
                .body("jobs.job_id", contains(jobId)).body("jobs[0].status", equalTo("queued"));
        // dataset-service learns of the job from its queued event.
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        List<String> usedBy = List.of();
        while (usedBy.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(200);
            usedBy = given().baseUri(TrainingTestPeers.datasetsUrl()).header("x-mlinfra-identity", TestIdentities.token(owner, "read"))
                    .get("/internal/v1/datasets/" + dataset).then().statusCode(200).extract().jsonPath().getList("used_by");
        }
        assertEquals(List.of(jobId), usedBy);
        String message = awaitDelete(owner, dataset, 409);
        assertTrue(message.contains(jobId + " (queued)"), message);
        as(owner).post("/v1/training/jobs/" + jobId + "/cancel").then().statusCode(200);
        as(owner).queryParam("dataset_id", dataset).get("/internal/v1/training/jobs").then().body("jobs", hasSize(0));
        awaitDelete(owner, dataset, 200);
    }

    @Test
    void theBackendTellsWhichTrainerRunsJobsAndThatItCanStartOne() throws Exception {
        Path jar = Path.of(ConfigProvider.getConfig().getValue("mlinfra.training.local.engine-jar", String.class)).toAbsolutePath();
        String version;
        try (JarFile file = new JarFile(jar.toFile())) {
            version = file.getManifest().getMainAttributes().getValue(Attributes.Name.IMPLEMENTATION_VERSION);
        }
        assertNotNull(version, jar + " has no Implementation-Version; build it again with ./mvnw -pl llm-engine package");
        as(team).get("/internal/v1/training/backend").then().statusCode(200)
                .body("backend", equalTo("local"))
                .body("can_start", equalTo(true))
                .body("version", equalTo(version))
                .body("engine_jar", equalTo(jar.toString()))
                .body("$", not(hasKey("reason")));
        // Service to service only: like every /internal path, it wants the caller's identity token.
        given().get("/internal/v1/training/backend").then().statusCode(401);
    }

    /** Deletes the dataset through dataset-service until the answer has the status (events take a moment). */
    private static String awaitDelete(String owner, String dataset, int status) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        var response = given().baseUri(TrainingTestPeers.datasetsUrl())
                .header("x-mlinfra-identity", TestIdentities.token(owner, "read", "write")).delete("/v1/datasets/" + dataset);
        while (response.statusCode() != status && System.nanoTime() < deadline) {
            Thread.sleep(300);
            response = given().baseUri(TrainingTestPeers.datasetsUrl())
                    .header("x-mlinfra-identity", TestIdentities.token(owner, "read", "write")).delete("/v1/datasets/" + dataset);
        }
        assertEquals(status, response.statusCode(), response.asString());
        return response.asString();
    }
}
