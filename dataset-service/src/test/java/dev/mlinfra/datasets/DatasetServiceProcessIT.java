package dev.mlinfra.datasets;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.commons.storage.ObjectStore;
import dev.mlinfra.commons.storage.S3Config;
import dev.mlinfra.testsupport.Devstack;
import dev.mlinfra.testsupport.ServiceProcess;
import dev.mlinfra.testsupport.TestIdentities;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * dataset-service as a built application in its own process: killed in the middle of an upload
 * and started again, and started on a schema that drifted from its entities.
 */
class DatasetServiceProcessIT {

    private static final Path SAMPLE = Path.of(System.getProperty("mlinfra.root"), "samples/datasets/gitops-issues.jsonl");
    private static final int MIB = 1024 * 1024;
    /** Short enough for a test: a receiver that stops beating is given up after 6 seconds. */
    private static final Map<String, String> QUICK_SWEEPS = Map.of(
            "mlinfra.datasets.heartbeat-interval", "PT1S",
            "mlinfra.datasets.stall-timeout", "PT6S",
            "mlinfra.datasets.sweep-interval", "1s");

    private static ServiceProcess service;
    private static ObjectStore store;

    @BeforeAll
    static void start() {
        service = ServiceProcess.start("dataset-service", QUICK_SWEEPS);
        store = new ObjectStore(new S3Config() {
            public String endpoint() {
                return Devstack.s3Endpoint();
            }

            public String accessKey() {
                return Devstack.s3AccessKey();
            }

            public String secretKey() {
                return Devstack.s3SecretKey();
            }

            public String region() {
                return Devstack.s3Region();
            }

            public String bucket() {
                return "mlinfra";
            }

            public long partSize() {
                return 16L * MIB;
            }
        });
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.stop();
        }
    }

    private static String token(String team) {
        return TestIdentities.token(team, "read", "write");
    }

    private static String create(String team, String name) {
        String url = given().baseUri(service.url()).header("x-mlinfra-identity", token(team)).contentType(ContentType.JSON)
                .body(Map.of("name", name, "description", "", "source", "github", "format", "jsonl", "version", "v1"))
                .post("/v1/datasets/upload").then().statusCode(200).extract().path("upload_url");
        return URI.create(url).getPath();
    }

    private static JsonPath dataset(String team, String name) {
        return given().baseUri(service.url()).header("x-mlinfra-identity", token(team)).get("/v1/datasets/" + name)
                .then().statusCode(200).extract().jsonPath();
    }

    /** Opens a PUT of {@code length} bytes to the service; the caller writes the body. */
    private static Socket openPut(String path, String team, long length) throws Exception {
        Socket socket = new Socket("127.0.0.1", service.port());
        socket.getOutputStream().write(("PUT " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nx-mlinfra-identity: " + token(team)
                + "\r\nContent-Type: application/x-ndjson\r\nContent-Length: " + length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        return socket;
    }

    private static String readAnswer(Socket socket) throws Exception {
        socket.setSoTimeout((int) Duration.ofSeconds(60).toMillis());
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream answer = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        int n;
        while ((n = in.read(buffer)) > 0) {
            answer.write(buffer, 0, n);
            String text = answer.toString(StandardCharsets.UTF_8);
            if (text.contains("\r\n\r\n") && text.trim().endsWith("}")) {
                break;
            }
        }
        return answer.toString(StandardCharsets.UTF_8);
    }

    /** {@code count} JSONL records of the sample, repeated as needed. */
    private static byte[] records(long bytes) throws Exception {
        byte[] sample = Files.readAllBytes(SAMPLE);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (out.size() < bytes) {
            out.write(sample);
        }
        return out.toByteArray();
    }

    @Test
    void anUploadWhoseServiceIsKilledFailsAfterTheRestartAndLeavesNoParts() throws Exception {
        String name = "crash-" + UUID.randomUUID().toString().substring(0, 8);
        String path = create("team-k", name);
        String prefix = "datasets/team-k/" + name + "/";
        byte[] first = records(40L * MIB);
        try (Socket client = openPut(path, "team-k", 500L * 1000 * 1000)) {
            OutputStream out = client.getOutputStream();
            out.write(first);
            out.flush();
            // The service is sending its first parts to the object store: a multipart upload is under way.
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (store.incompleteUploads(prefix).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertFalse(store.incompleteUploads(prefix).isEmpty(), "the upload had started storing parts");
            Thread.sleep(1000);
            service.kill();
        }
        service = ServiceProcess.start("dataset-service", QUICK_SWEEPS);
        assertEquals("pending", dataset("team-k", name).getString("status"), "nothing failed it yet");

        JsonPath view = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            view = dataset("team-k", name);
            if (!"pending".equals(view.getString("status"))) {
                break;
            }
            Thread.sleep(500);
        }
        assertEquals("failed", view.getString("status"), view.prettify());
        assertTrue(view.getString("failure.reason").contains("The upload was interrupted: the service receiving it stopped"),
                view.getString("failure.reason"));
        assertEquals(List.of(), store.incompleteUploads(prefix), "the parts it had stored are aborted");
        assertEquals(0, store.removeAll(prefix), "no object is left");
        given().baseUri(service.url()).header("x-mlinfra-identity", token("team-k")).body("{}").put(path)
                .then().statusCode(409);
    }

    @Test
    void aSlowUploadThatIsStillAliveOutlastsTheStallTimeout() throws Exception {
        String name = "slow-" + UUID.randomUUID().toString().substring(0, 8);
        String path = create("team-k", name);
        byte[] file = Files.readAllBytes(SAMPLE);
        int pieces = 24;
        try (Socket client = openPut(path, "team-k", file.length)) {
            OutputStream out = client.getOutputStream();
            // 12 seconds for a file of 300 KB: twice the time after which a silent receiver is given up.
            for (int i = 0; i < pieces; i++) {
                int from = file.length * i / pieces;
                int to = file.length * (i + 1) / pieces;
                out.write(file, from, to - from);
                out.flush();
                Thread.sleep(500);
            }
            String answer = readAnswer(client);
            assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
            assertTrue(answer.contains("\"status\":\"ready\""), answer);
        }
        assertEquals("ready", dataset("team-k", name).getString("status"));
    }

    @Test
    void anEntityThatDriftedFromTheMigratedSchemaStopsTheServiceAtStart() throws Exception {
        String database = "datasets_drift_" + UUID.randomUUID().toString().substring(0, 8);
        ServiceProcess.start("dataset-service", database, Map.of()).stop();
        try (Connection db = Devstack.connect(database); Statement sql = db.createStatement()) {
            // what a hand-made change or a forgotten migration would do
            sql.execute("ALTER TABLE dataset RENAME COLUMN num_examples TO examples");
        }
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> ServiceProcess.start("dataset-service", database, Map.of()).stop());
        assertTrue(refused.getMessage().contains("Schema validation: missing column [num_examples] in table [dataset]"),
                refused.getMessage());
    }
}
