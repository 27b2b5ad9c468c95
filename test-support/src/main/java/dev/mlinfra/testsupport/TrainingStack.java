package dev.mlinfra.testsupport;

import static io.restassured.RestAssured.given;

import dev.mlinfra.devstack.process.FreePorts;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * What a training job needs, as real processes on the devstack of this JVM: dataset-service,
 * infra-service (the GPU ledger: one execution slot) and training-service with its local backend,
 * whose trainers are llm-engine processes (llm-engine's own tests unpacked the PyTorch library they
 * use). For tests of the services downstream of training (registry, inference) and of the gateway.
 */
public final class TrainingStack implements AutoCloseable {

    /** A short job: a few steps, one evaluated record; it completes in seconds. */
    public static final Map<String, Object> SHORT_JOB = Map.of("learning_rate", 0.004, "batch_size", 4, "max_steps", 3,
            "max_seq_len", 192, "checkpoint_every", 0, "max_eval_records", 1, "max_new_tokens", 4, "eval_base", false);

    private static final Duration JOB_TIMEOUT = Duration.ofMinutes(5);

    private final Path workDir;
    private final ServiceProcess datasets;
    private ServiceProcess infra;
    private ServiceProcess training;

    private TrainingStack(Path workDir, ServiceProcess datasets, ServiceProcess infra, ServiceProcess training) {
        this.workDir = workDir;
        this.datasets = datasets;
        this.infra = infra;
        this.training = training;
    }

    /**
     * Starts the three services. {@code workDir} holds the jobs' folders (emptied first: job ids start
     * again with every test database); {@code shared} is configuration every service gets (e.g. the
     * gateway's public URL).
     */
    public static TrainingStack start(Path workDir, Map<String, String> shared) {
        Path root = Repository.root();
        deleteTree(workDir.resolve("training-jobs"));
        // dataset-service asks training-service which jobs use a dataset about to be deleted
        int trainingPort = FreePorts.pick();
        Map<String, String> datasetConfig = new HashMap<>(shared);
        datasetConfig.put("quarkus.rest-client.training.url", "http://" + FreePorts.LOOPBACK + ":" + trainingPort);
        ServiceProcess datasets = ServiceProcess.start("dataset-service", datasetConfig);
        ServiceProcess infra = ServiceProcess.start("infra-service", shared);
        Map<String, String> config = new HashMap<>(shared);
        config.put("quarkus.rest-client.datasets.url", datasets.url());
        config.put("quarkus.rest-client.gpu-ledger.url", infra.url());
        config.put("mlinfra.training.local.engine-jar", root.resolve("llm-engine/target/llm-engine.jar").toString());
        config.put("mlinfra.training.local.work-dir", workDir.resolve("training-jobs").toString());
        config.put("mlinfra.training.local.engine-data-dir", workDir.resolve("engine-data").toString());
        config.put("mlinfra.training.local.jvm-options", "-Xmx1g -XX:+UseSerialGC --enable-native-access=ALL-UNNAMED"
                + " -Dmlinfra.djl.cache-dir=" + root.resolve("llm-engine/target/djl-cache"));
        config.put("mlinfra.training.reconcile-interval", "2s");
        return new TrainingStack(workDir, datasets, infra, ServiceProcess.startOn(trainingPort, "training-service", config));
    }

    /** The trainers' data directory (base models, the unpacked PyTorch library), which model servers can share. */
    public Path engineDataDir() {
        return workDir.resolve("engine-data");
    }

    public ServiceProcess datasets() {
        return datasets;
    }

    public ServiceProcess infra() {
        return infra;
    }

    public ServiceProcess training() {
        return training;
    }

    /** The folder of a job: its spec and its trainer's log. */
    public Path jobDir(String jobId) {
        return workDir.resolve("training-jobs").resolve(jobId);
    }

    /** Restarts training-service on the same address; trainers keep running meanwhile. */
    public void restartTraining() {
        training = training.restart();
    }

    /**
     * Restarts infra-service on the same address with {@code moreConfig} added: the peers its status
     * probes ({@code mlinfra.infra.services.*}) start after it.
     */
    public void restartInfra(Map<String, String> moreConfig) {
        infra = infra.restart(moreConfig);
    }

    public void stopTraining() {
        training.stop();
    }

    /** SIGKILL to training-service, as a crash; {@link #restartTraining()} starts it again. */
    public void killTraining() {
        training.kill();
    }

    /** Creates a dataset of {@code team} from a JSONL file, straight at dataset-service; returns its id once ready. */
    public String readyDataset(String team, Path jsonl) {
        String name = "ds-" + UUID.randomUUID().toString().substring(0, 8);
        String token = TestIdentities.token(team, "read", "write");
        String uploadUrl = given().baseUri(datasets.url()).header("x-mlinfra-identity", token).contentType(ContentType.JSON)
                .body(Map.of("name", name, "description", "", "source", "github", "format", "jsonl", "version", "v1"))
                .post("/v1/datasets/upload").then().statusCode(200).extract().path("upload_url");
        try {
            given().baseUri(datasets.url()).header("x-mlinfra-identity", token).contentType("application/x-ndjson")
                    .body(Files.readAllBytes(jsonl)).put(URI.create(uploadUrl).getPath())
                    .then().statusCode(200).body("status", org.hamcrest.Matchers.equalTo("ready"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return name;
    }

    /** Starts a job of {@code team}, straight at training-service, and returns its id. */
    public String startJob(String team, String modelType, String datasetId, Map<String, Object> config) {
        return given().baseUri(training.url()).header("x-mlinfra-identity", TestIdentities.token(team, "read", "write"))
                .contentType(ContentType.JSON)
                .body(Map.of("model_type", modelType, "dataset_id", datasetId, "config", config))
                .post("/v1/training/jobs").then().statusCode(200).extract().path("job_id");
    }

    /** The job as its owner sees it. */
    public JsonPath job(String team, String jobId) {
        return given().baseUri(training.url()).header("x-mlinfra-identity", TestIdentities.token(team, "read"))
                .get("/v1/training/jobs/" + jobId).then().statusCode(200).extract().jsonPath();
    }

    /** Waits until the job has ended and returns it; fails unless it completed. */
    public JsonPath awaitCompleted(String team, String jobId) {
        long deadline = System.nanoTime() + JOB_TIMEOUT.toNanos();
        JsonPath job = job(team, jobId);
        while (!java.util.Set.of("completed", "failed", "cancelled").contains(job.getString("status"))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("job " + jobId + " did not end within " + JOB_TIMEOUT + ": " + job.prettify());
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            job = job(team, jobId);
        }
        if (!"completed".equals(job.getString("status"))) {
            throw new AssertionError("job " + jobId + " ended " + job.getString("status") + ": " + job.prettify());
        }
        return job;
    }

    /** A completed short job of {@code team} on {@code datasetId}. */
    public String completedJob(String team, String modelType, String datasetId) {
        String jobId = startJob(team, modelType, datasetId, SHORT_JOB);
        awaitCompleted(team, jobId);
        return jobId;
    }

    @Override
    public void close() {
        for (ServiceProcess p : new ServiceProcess[] {training, infra, datasets}) {
            if (p != null) {
                p.stop();
            }
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
