package dev.mlinfra.training.backend;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.hasKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.testsupport.DevstackResource;
import dev.mlinfra.testsupport.TestIdentities;
import dev.mlinfra.testsupport.TrainingStack;
import dev.mlinfra.training.TrainingTestPeers;
import dev.mlinfra.training.config.TrainingConfig;
import dev.mlinfra.training.repository.TrainingJobRepository;
import dev.mlinfra.training.service.JobRunner;
import dev.mlinfra.training.service.TrainerEnds;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import io.smallrye.common.annotation.Identifier;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The kubeflow backend against the fabric8 mock API server (CRUD mode), with the real ledger,
 * dataset-service, PostgreSQL, Kafka and object store. The test plays the cluster: it reads each
 * TrainJob back as the Trainer controller would, sets its conditions, and for a job that completes
 * runs llm-engine's trainer with exactly the command, arguments and environment (its Secret's keys
 * resolved) that the TrainJob carries, marking it Complete only when that trainer exited 0.
 */
@QuarkusTest
@TestProfile(KubeflowProfile.class)
@WithKubernetesTestServer(crud = true)
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "training"))
@QuarkusTestResource(value = KubeflowTestPeers.class, restrictToAnnotatedClass = true)
class KubeflowTrainingBackendTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String NS = KubeflowProfile.NAMESPACE;
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final Path ROOT = Path.of(System.getProperty("mlinfra.root"));

    /** The application's client: it talks to the mock API server. */
    @Inject
    KubernetesClient cluster;

    @Inject
    TrainingConfig config;

    @Inject
    @Identifier(KubeflowTrainingBackend.NAME)
    KubeflowTrainingBackend backend;

    @Inject
    JobRunner runner;

    @Inject
    TrainingJobRepository jobs;

    private static String team;
    private static String dataset;

    @BeforeAll
    static void data() {
        team = "kf-" + UUID.randomUUID().toString().substring(0, 6);
        dataset = dataset(team);
    }

    /** A ready dataset of {@code team} in dataset-service, from the sample file. */
    private static String dataset(String team) {
        String name = "ds-" + UUID.randomUUID().toString().substring(0, 8);
        String token = TestIdentities.token(team, "read", "write");
        String uploadUrl = given().baseUri(KubeflowTestPeers.datasets.url()).header("x-mlinfra-identity", token)
                .contentType(ContentType.JSON)
                .body(Map.of("name", name, "description", "", "source", "github", "format", "jsonl", "version", "v1"))
                .post("/v1/datasets/upload").then().statusCode(200).extract().path("upload_url");
        try {
            given().baseUri(KubeflowTestPeers.datasets.url()).header("x-mlinfra-identity", token)
                    .contentType("application/x-ndjson").body(java.nio.file.Files.readAllBytes(TrainingTestPeers.SAMPLE))
                    .put(java.net.URI.create(uploadUrl).getPath()).then().statusCode(200);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return name;
    }

    private KubernetesClient client() {
        return cluster;
    }

    private static RequestSpecification as(String team) {
        return given().header("x-mlinfra-identity", TestIdentities.token(team, "read", "write"));
    }

    private static String start(String modelType, Map<String, Object> jobConfig) {
        return as(team).contentType(ContentType.JSON)
                .body(Map.of("model_type", modelType, "dataset_id", dataset, "config", jobConfig))
                .post("/v1/training/jobs").then().statusCode(200).extract().path("job_id");
    }

    private static JsonPath job(String jobId) {
        return as(team).get("/v1/training/jobs/" + jobId).then().statusCode(200).extract().jsonPath();
    }

    private static <T> T await(String what, Supplier<T> probe) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            T value = probe.get();
            if (value != null && !Boolean.FALSE.equals(value)) {
                return value;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    private List<TrainJob> trainJobsOf(String jobId) {
        return client().resources(TrainJob.class).inNamespace(NS).withLabel(KubeflowTrainingBackend.JOB_LABEL, jobId).list().getItems();
    }

    /** The TrainJob the service creates for the job once the ledger granted it capacity. */
    private TrainJob awaitTrainJob(String jobId) {
        return await("the TrainJob of " + jobId, () -> trainJobsOf(jobId).stream().findFirst().orElse(null));
    }

    private JsonPath awaitStatus(String jobId, String status) {
        return await(jobId + " " + status, () -> {
            JsonPath job = job(jobId);
            return status.equals(job.getString("status")) ? job : null;
        });
    }

    /** Sets a condition on the TrainJob's status, as the Trainer controller does. */
    private void condition(TrainJob trainJob, String type, String status, String reason, String message) {
        TrainJob current = client().resources(TrainJob.class).inNamespace(NS).withName(trainJob.getMetadata().getName()).get();
        if (current.getStatus() == null) {
            current.setStatus(new TrainJob.Status());
        }
        List<Condition> conditions = new ArrayList<>(current.getStatus().conditions == null ? List.of() : current.getStatus().conditions);
        conditions.removeIf(c -> type.equals(c.getType()));
        conditions.add(new ConditionBuilder().withType(type).withStatus(status).withReason(reason).withMessage(message)
                .withLastTransitionTime(Instant.now().toString()).build());
        current.getStatus().conditions = conditions;
        client().resources(TrainJob.class).inNamespace(NS).resource(current).updateStatus();
    }

    /** Sets {@code status.trainerStatus}, as the Trainer controller does with its TrainJobStatus gate on. */
    private void trainerStatus(TrainJob trainJob, int percent, int remainingSeconds) {
        TrainJob current = client().resources(TrainJob.class).inNamespace(NS).withName(trainJob.getMetadata().getName()).get();
        if (current.getStatus() == null) {
            current.setStatus(new TrainJob.Status());
        }
        current.getStatus().trainerStatus = new TrainJob.TrainerStatus(percent, remainingSeconds, List.of(), Instant.now().toString());
        client().resources(TrainJob.class).inNamespace(NS).resource(current).updateStatus();
    }

    /** The trainer Secret, as the manifests create it: the devstack's object store and Kafka. */
    private void secret() {
        var c = ConfigProvider.getConfig();
        Map<String, String> data = Map.of(
                "MLINFRA_S3_ENDPOINT", c.getValue("mlinfra.s3.endpoint", String.class),
                "MLINFRA_S3_ACCESS_KEY", c.getValue("mlinfra.s3.access-key", String.class),
                "MLINFRA_S3_SECRET_KEY", c.getValue("mlinfra.s3.secret-key", String.class),
                "MLINFRA_KAFKA_BOOTSTRAP_SERVERS", c.getValue("kafka.bootstrap.servers", String.class));
        Map<String, String> encoded = new HashMap<>();
        data.forEach((k, v) -> encoded.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
        client().secrets().inNamespace(NS).resource(new SecretBuilder().withNewMetadata().withName(config.kubeflow().secret())
                .withNamespace(NS).endMetadata().withData(encoded).build()).createOr(op -> op.update());
    }

    /**
     * Runs the TrainJob's trainer as its container would: the image's {@code llm-engine} launcher is
     * llm-engine's jar on this JDK (what the image runs), the arguments and environment are the
     * TrainJob's own, with {@code secretKeyRef}s resolved from the Secret. Returns the exit code.
     */
    private int runTrainer(TrainJob trainJob) throws Exception {
        TrainJob.Trainer trainer = trainJob.getSpec().trainer;
        assertEquals(List.of("llm-engine"), trainer.command, "the command the image provides");
        Map<String, String> env = new HashMap<>();
        env.put("PATH", System.getenv("PATH"));
        for (EnvVar var : trainer.env) {
            if (var.getValueFrom() == null) {
                env.put(var.getName(), var.getValue());
                continue;
            }
            var ref = var.getValueFrom().getSecretKeyRef();
            var secret = client().secrets().inNamespace(NS).withName(ref.getName()).get();
            assertNotNull(secret, "the Secret " + ref.getName());
            String value = secret.getData() == null ? null : secret.getData().get(ref.getKey());
            if (value == null) {
                assertTrue(Boolean.TRUE.equals(ref.getOptional()), "a required key is missing: " + ref.getKey());
                continue;
            }
            env.put(var.getName(), new String(Base64.getDecoder().decode(value), StandardCharsets.UTF_8));
        }
        Path work = ROOT.resolve("training-service/target/kubeflow-pods").resolve(trainJob.getMetadata().getName());
        java.nio.file.Files.createDirectories(work);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED",
                "-Dmlinfra.data-dir=" + ROOT.resolve("training-service/target/kubeflow-engine-data"),
                "-Dmlinfra.djl.cache-dir=" + ROOT.resolve("llm-engine/target/djl-cache"),
                "-jar", ROOT.resolve("llm-engine/target/llm-engine.jar").toString()));
        command.addAll(trainer.args);
        ProcessBuilder pod = new ProcessBuilder(command).directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(work.resolve("trainer.log").toFile());
        pod.environment().clear();
        pod.environment().putAll(env);
        Process process = pod.start();
        try {
            assertTrue(process.waitFor(5, TimeUnit.MINUTES), "the trainer ends within 5 minutes");
            return process.exitValue();
        } finally {
            process.destroyForcibly();
        }
    }

    @Test
    void aGrantedJobBecomesATrainJobThatCompletesWithRealArtifactsAndProgress() throws Exception {
        secret();
        String jobId = start("scout", TrainingStack.SHORT_JOB);
        TrainJob trainJob = awaitTrainJob(jobId);

        // metadata: named after the job, labelled, owned by nobody
        assertEquals(TrainJob.GROUP + "/" + TrainJob.VERSION, trainJob.getApiVersion());
        assertEquals("TrainJob", trainJob.getKind());
        assertEquals(NS, trainJob.getMetadata().getNamespace());
        assertEquals(jobId + "-1", trainJob.getMetadata().getName());
        assertEquals(Map.of("mlinfra.dev/job-id", jobId, "mlinfra.dev/team", team, "mlinfra.dev/attempt", "1",
                "app.kubernetes.io/managed-by", "training-service"),
                trainJob.getMetadata().getLabels());
        assertTrue(trainJob.getMetadata().getOwnerReferences() == null || trainJob.getMetadata().getOwnerReferences().isEmpty());
        // the runtime, by reference
        assertEquals(new TrainJob.RuntimeRef("torch-distributed", "trainer.kubeflow.org", "ClusterTrainingRuntime"),
                trainJob.getSpec().runtimeRef);
        // the trainer
        TrainJob.Trainer trainer = trainJob.getSpec().trainer;
        assertEquals("mlinfra/llm-engine:" + ConfigProvider.getConfig().getValue("quarkus.application.version", String.class),
                trainer.image);
        assertEquals(List.of("train", "--spec-env", "MLINFRA_TRAINING_SPEC"), trainer.args);
        assertEquals(1, trainer.numNodes);
        assertEquals(Map.of("nvidia.com/gpu", new Quantity("1")), trainer.resourcesPerNode.getLimits());
        assertEquals(List.of("MLINFRA_TRAINING_SPEC", "MLINFRA_S3_ENDPOINT", "MLINFRA_S3_ACCESS_KEY", "MLINFRA_S3_SECRET_KEY",
                "MLINFRA_S3_REGION", "MLINFRA_KAFKA_BOOTSTRAP_SERVERS"), trainer.env.stream().map(EnvVar::getName).toList());
        for (EnvVar var : trainer.env.subList(1, trainer.env.size())) {
            assertNull(var.getValue(), var.getName() + " is not written into the TrainJob");
            assertEquals("mlinfra-trainer", var.getValueFrom().getSecretKeyRef().getName());
            assertEquals(var.getName(), var.getValueFrom().getSecretKeyRef().getKey());
            assertEquals(var.getName().equals("MLINFRA_S3_REGION") ? Boolean.TRUE : null, var.getValueFrom().getSecretKeyRef().getOptional());
        }
        JsonNode spec = JSON.readTree(trainer.env.get(0).getValue());
        assertEquals(jobId, spec.get("job_id").asText());
        assertEquals(team, spec.get("team").asText());
        assertEquals("scout", spec.get("model_type").asText());
        assertTrue(spec.get("dataset").get("location").asText().startsWith("s3://"), spec.toString());
        assertEquals(3, spec.get("config").get("max_steps").asInt());
        assertTrue(spec.get("output").asText().endsWith("/training/" + team + "/" + jobId + "/"), spec.toString());
        assertFalse(spec.has("s3"), "object store credentials stay in the Secret: " + spec);
        assertEquals(Set.of("topic", "job_id", "team"), iterable(spec.get("kafka").fieldNames()));
        assertEquals("mlinfra.training.progress", spec.get("kafka").get("topic").asText());
        // placement, as a runtime patch of the trainer nodes
        assertEquals(1, trainJob.getSpec().runtimePatches.size());
        TrainJob.RuntimePatch patch = trainJob.getSpec().runtimePatches.get(0);
        assertEquals("mlinfra.dev/training-service", patch.manager());
        TrainJob.ReplicatedJobPatch node = patch.trainingRuntimeSpec().template().spec().replicatedJobs().get(0);
        assertEquals("node", node.name());
        TrainJob.PodSpecPatch pod = node.template().spec().template().spec();
        assertEquals(Map.of("nvidia.com/gpu.product", "NVIDIA-H100-80GB-HBM3"), pod.nodeSelector());
        assertEquals(List.of(toleration("nvidia.com/gpu", "Exists", null, "NoSchedule"), toleration("dedicated", "Equal", "training", null)),
                pod.tolerations());
        awaitStatus(jobId, "running");

        // Kueue holds it: the job keeps running (it holds its capacity) and says why nothing happens
        condition(trainJob, TrainJob.SUSPENDED, "True", "Suspended", "Kueue: waiting for quota in ClusterQueue gpu-h100");
        String note = await("the suspension in the job's history", () -> as(team).get("/v1/training/jobs/" + jobId + "/events")
                .then().statusCode(200).extract().jsonPath().<String>getList("events.message").stream()
                .filter(m -> m.contains("suspended")).findFirst().orElse(null));
        assertTrue(note.contains("waiting for quota in ClusterQueue gpu-h100"), note);
        assertEquals("running", job(jobId).getString("status"));

        // admitted: the pod runs the trainer; Complete only once it exited 0
        condition(trainJob, TrainJob.SUSPENDED, "False", "Resumed", "admitted by Kueue");
        assertEquals(0, runTrainer(trainJobsOf(jobId).get(0)), "the trainer's exit code (log in target/kubeflow-pods)");
        condition(trainJob, TrainJob.COMPLETE, "True", "JobsCompleted", "jobset completed");

        JsonPath done = awaitStatus(jobId, "completed");
        assertTrue(done.getString("artifacts.adapter").endsWith(jobId + "/adapter/"), done.prettify());
        assertNotNull(done.get("metrics.eval_loss"), done.prettify());
        assertEquals(3, done.getInt("progress.current_step"), "steps from mlinfra.training.progress: " + done.prettify());
        assertEquals(3, done.getInt("progress.total_steps"));
        assertEquals(100, done.getInt("progress.percent_complete"));
    }

    private static Toleration toleration(String key, String operator, String value, String effect) {
        return new io.fabric8.kubernetes.api.model.TolerationBuilder().withKey(key).withOperator(operator).withValue(value)
                .withEffect(effect).build();
    }

    private static Set<String> iterable(java.util.Iterator<String> names) {
        Set<String> set = new java.util.HashSet<>();
        names.forEachRemaining(set::add);
        return set;
    }

    @Test
    void aFailedTrainJobFailsTheJobWithTheConditionsReasonAndMessage() {
        String jobId = start("scout", Map.of("epochs", 1));
        TrainJob trainJob = awaitTrainJob(jobId);
        awaitStatus(jobId, "running");
        // a trainer image that reports no steps: the cluster's trainer status is the job's progress
        trainerStatus(trainJob, 40, 120);
        JsonPath running = await("the cluster's progress on the job", () -> {
            JsonPath job = job(jobId);
            return Integer.valueOf(40).equals(job.get("progress.percent_complete")) ? job : null;
        });
        assertEquals(120, running.getInt("progress.eta_seconds"), running.prettify());
        assertEquals("running", running.getString("status"));
        condition(trainJob, TrainJob.FAILED, "True", "FailedJobs", "jobset failed: node-0 was OOMKilled");
        JsonPath failed = awaitStatus(jobId, "failed");
        assertEquals("the TrainJob " + jobId + "-1 failed (FailedJobs): jobset failed: node-0 was OOMKilled", failed.getString("error"));
        assertEquals(1, trainJobsOf(jobId).size(), "a failed TrainJob is not launched again");
    }

    @Test
    void cancellingARunningJobDeletesItsTrainJob() {
        String jobId = start("maverick", Map.of("epochs", 1));
        TrainJob trainJob = awaitTrainJob(jobId);
        assertEquals(new Quantity("8"), trainJob.getSpec().trainer.resourcesPerNode.getLimits().get("nvidia.com/gpu"),
                "maverick's GPUs per node");
        awaitStatus(jobId, "running");
        as(team).post("/v1/training/jobs/" + jobId + "/cancel").then().statusCode(200);
        await("the TrainJob deleted", () -> trainJobsOf(jobId).isEmpty());
        awaitStatus(jobId, "cancelled");
    }

    @Test
    void aJobWhoseTrainJobCompletedWhileTheServiceWasAwayIsReconciled() throws Exception {
        secret();
        String jobId = start("scout", TrainingStack.SHORT_JOB);
        TrainJob trainJob = awaitTrainJob(jobId);
        awaitStatus(jobId, "running");
        backend.close(); // the service stops watching, as when it is down
        try {
            assertEquals(0, runTrainer(trainJob));
            condition(trainJob, TrainJob.COMPLETE, "True", "JobsCompleted", "jobset completed");
            Thread.sleep(3000); // reconciliation rounds pass while nobody watches
            assertEquals("running", job(jobId).getString("status"), "nobody saw it complete yet");
        } finally {
            backend.watch(); // back: its first list finds the TrainJob complete
        }
        JsonPath done = awaitStatus(jobId, "completed");
        assertNotNull(done.get("metrics.eval_loss"), done.prettify());
        assertEquals(1, trainJobsOf(jobId).size(), "not launched again");
    }

    @Test
    void theEndOfALaunchIsActedOnOnceThoughTwoReplicasHearIt() throws Throwable {
        String jobId = start("scout", Map.of("epochs", 1));
        TrainJob first = awaitTrainJob(jobId);
        assertEquals("1", first.getMetadata().getLabels().get(KubeflowTrainingBackend.ATTEMPT_LABEL));
        awaitStatus(jobId, "running");
        // Deleted outside training-service: the job is launched again, as its second launch.
        String name = first.getMetadata().getName();
        client().resources(TrainJob.class).inNamespace(NS).withName(name).delete();
        TrainJob second = await("the second launch", () -> trainJobsOf(jobId).stream()
                .filter(tj -> "2".equals(tj.getMetadata().getLabels().get(KubeflowTrainingBackend.ATTEMPT_LABEL)))
                .findFirst().orElse(null));
        // During a rolling update another replica heard the same end; it acts on it once that launch is
        // decided, before its own view of the cluster shows the new TrainJob.
        TrainerExit same = new TrainerExit(jobId, TrainerExit.Outcome.LOST, null,
                "the TrainJob " + name + " was deleted outside training-service", 1);
        assertNull(TrainerEnds.handle(runner, same), "the job is not launched a third time");
        assertEquals(List.of(second.getMetadata().getName()),
                trainJobsOf(jobId).stream().map(tj -> tj.getMetadata().getName()).toList());
        assertEquals("running", job(jobId).getString("status"));
        as(team).post("/v1/training/jobs/" + jobId + "/cancel").then().statusCode(200);
        awaitStatus(jobId, "cancelled");
    }

    @Test
    void aLaunchDecidedButNeverMadeIsMadeLaterAsTheSameLaunch() throws Throwable {
        String jobId = start("scout", Map.of("epochs", 1));
        TrainJob first = awaitTrainJob(jobId);
        awaitStatus(jobId, "running");
        await("launch 1 made", () -> launches(jobId)[1] == 1);
        backend.close(); // nobody watches: the deletion below is not heard as the trainer's end
        try {
            client().resources(TrainJob.class).inNamespace(NS).withName(first.getMetadata().getName()).delete();
            // The service decided launch 2 for the lost trainer and stopped before creating its TrainJob.
            TrainerEnds.nextLaunchDecidedOnly(jobs, jobId);
        } finally {
            backend.watch(); // back: no TrainJob of launch 2 exists
        }
        TrainJob made = await("launch 2 made", () -> trainJobsOf(jobId).stream().findFirst().orElse(null));
        assertEquals("2", made.getMetadata().getLabels().get(KubeflowTrainingBackend.ATTEMPT_LABEL),
                "the launch that was decided, not a third");
        await("launch 2 recorded as made", () -> Arrays.equals(launches(jobId), new int[] {2, 2}));
        List<String> history = as(team).get("/v1/training/jobs/" + jobId + "/events?limit=100").then().statusCode(200)
                .extract().jsonPath().getList("events.message");
        assertTrue(history.contains("The trainer of launch 2 was never started (training-service stopped while starting it);"
                + " starting it now"), history.toString());
        assertEquals("running", job(jobId).getString("status"));
        as(team).post("/v1/training/jobs/" + jobId + "/cancel").then().statusCode(200);
        awaitStatus(jobId, "cancelled");
    }

    private int[] launches(String jobId) {
        try {
            return TrainerEnds.launches(jobs, jobId);
        } catch (Throwable e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aFreshInformerSeesTheTrainJobsThatExistAndHowTheyEnded() {
        String running = "train-fresh-" + UUID.randomUUID().toString().substring(0, 6);
        String failed = "train-fresh-" + UUID.randomUUID().toString().substring(0, 6);
        TrainJob first = client().resources(TrainJob.class).inNamespace(NS)
                .resource(backend.trainJob(running, running + "-1", 1, spec(running))).create();
        TrainJob second = client().resources(TrainJob.class).inNamespace(NS)
                .resource(backend.trainJob(failed, failed + "-1", 1, spec(failed))).create();
        condition(second, TrainJob.FAILED, "True", "DeadlineExceeded", "past activeDeadlineSeconds");
        assertNotNull(first);

        KubeflowTrainingBackend fresh = new KubeflowTrainingBackend(client(), config);
        List<TrainerExit> exits = new CopyOnWriteArrayList<>();
        fresh.onExit(exits::add);
        fresh.watch();
        try {
            assertTrue(fresh.running(running));
            assertFalse(fresh.running(failed));
            TrainerExit exit = fresh.lastExit(failed).orElseThrow();
            assertEquals(TrainerExit.Outcome.FAILED, exit.outcome());
            assertEquals("the TrainJob " + failed + "-1 failed (DeadlineExceeded): past activeDeadlineSeconds", exit.reason());
            assertTrue(fresh.lastExit(running).isEmpty());
            await("the failure reported", () -> exits.stream().anyMatch(e -> e.jobId().equals(failed)));
            assertTrue(exits.stream().noneMatch(e -> e.jobId().equals(running)), exits.toString());
        } finally {
            fresh.close();
            client().resources(TrainJob.class).inNamespace(NS).withLabel(KubeflowTrainingBackend.JOB_LABEL, running).delete();
            client().resources(TrainJob.class).inNamespace(NS).withLabel(KubeflowTrainingBackend.JOB_LABEL, failed).delete();
        }
    }

    @Test
    void theEndOfAJobIsItsLatestLaunchsWhicheverTrainJobIsNewer() {
        // Two replicas raced: launch 2's TrainJob was created before launch 1's late one.
        String jobId = "train-raced-" + UUID.randomUUID().toString().substring(0, 6);
        TrainJob second = client().resources(TrainJob.class).inNamespace(NS)
                .resource(backend.trainJob(jobId, jobId + "-1", 2, spec(jobId))).create();
        TrainJob first = client().resources(TrainJob.class).inNamespace(NS)
                .resource(backend.trainJob(jobId, jobId + "-2", 1, spec(jobId))).create();
        condition(second, TrainJob.FAILED, "True", "FailedJobs", "node-0 was OOMKilled");
        condition(first, TrainJob.COMPLETE, "True", "JobsCompleted", "jobset completed");
        try {
            TrainerExit exit = await("both ends seen", () -> {
                Optional<TrainerExit> last = backend.lastExit(jobId);
                return last.isPresent() && !backend.running(jobId) ? last.get() : null;
            });
            assertEquals(TrainerExit.Outcome.FAILED, exit.outcome(), exit.toString());
            assertEquals(2, exit.attempt());
        } finally {
            client().resources(TrainJob.class).inNamespace(NS).withLabel(KubeflowTrainingBackend.JOB_LABEL, jobId).delete();
        }
    }

    private static com.fasterxml.jackson.databind.node.ObjectNode spec(String jobId) {
        var spec = JSON.createObjectNode().put("job_id", jobId).put("team", "fresh").put("model_type", "scout");
        spec.putObject("kafka").put("bootstrap_servers", "kafka:9092").put("topic", "mlinfra.training.progress");
        return spec;
    }

    @Test
    void theBackendStatusNamesTheImageAndThatTheClusterServesTrainJobs() {
        as(team).get("/internal/v1/training/backend").then().statusCode(200)
                .body("backend", equalTo("kubeflow"))
                .body("can_start", equalTo(true))
                .body("version", equalTo(config.kubeflow().image()))
                .body("$", not(hasKey("reason")))
                .body("$", not(hasKey("engine_jar")));
    }
}
