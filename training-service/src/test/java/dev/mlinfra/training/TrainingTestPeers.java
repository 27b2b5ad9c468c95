package dev.mlinfra.training;

import static io.restassured.RestAssured.given;

import dev.mlinfra.devstack.process.FreePorts;
import dev.mlinfra.testsupport.ServiceProcess;
import dev.mlinfra.testsupport.TestIdentities;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.restassured.http.ContentType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

/**
 * training-service's peers in its API tests: the real dataset-service as a process (datasets are
 * uploaded to it and resolved by it), and no GPU ledger: grants come only from infra-service, which
 * is not started here, so every job of these tests stays queued (the flows that run trainers are
 * tested through the gateway, in the gateway module). Capacity requests go to a topic of their own,
 * so no ledger of another test sees them.
 */
public class TrainingTestPeers implements QuarkusTestResourceLifecycleManager {

    public static final Path SAMPLE = Path.of(System.getProperty("mlinfra.root"), "samples/datasets/gitops-issues.jsonl");
    static ServiceProcess datasets;

    @Override
    public Map<String, String> start() {
        datasets = ServiceProcess.start("dataset-service", Map.of());
        return Map.of(
                "quarkus.rest-client.datasets.url", datasets.url(),
                "quarkus.rest-client.gpu-ledger.url", "http://127.0.0.1:" + FreePorts.pick(),
                "mlinfra.training.gpu-topic", "mlinfra.gpu.api-tests-" + UUID.randomUUID());
    }

    @Override
    public void stop() {
        if (datasets != null) {
            datasets.stop();
        }
    }

    public static String datasetsUrl() {
        return datasets.url();
    }

    /** Creates a dataset of {@code team} in dataset-service and uploads {@code file} to it (null: leave it pending). */
    public static String dataset(String team, Path file) {
        String name = "ds-" + UUID.randomUUID().toString().substring(0, 8);
        String token = TestIdentities.token(team, "read", "write");
        String uploadUrl = given().baseUri(datasets.url()).header("x-mlinfra-identity", token).contentType(ContentType.JSON)
                .body(Map.of("name", name, "description", "", "source", "github", "format", "jsonl", "version", "v1"))
                .post("/v1/datasets/upload").then().statusCode(200).extract().path("upload_url");
        if (file != null) {
            try {
                given().baseUri(datasets.url()).header("x-mlinfra-identity", token).contentType("application/x-ndjson")
                        .body(Files.readAllBytes(file)).put(URI.create(uploadUrl).getPath())
                        .then().statusCode(200);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return name;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
