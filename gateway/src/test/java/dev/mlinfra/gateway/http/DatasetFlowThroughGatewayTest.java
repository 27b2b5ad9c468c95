package dev.mlinfra.gateway.http;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mlinfra.gateway.GatewayTestBackends;
import dev.mlinfra.gateway.GatewayTestKeys;
import dev.mlinfra.testsupport.DevstackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The dataset flow as a user runs it: every call through the gateway, the file streamed through it. */
@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "gateway"))
@QuarkusTestResource(value = GatewayTestBackends.class, restrictToAnnotatedClass = true)
class DatasetFlowThroughGatewayTest {

    @TestHTTPResource("/")
    URI gateway;

    @Test
    void anUploadThatAsksToContinueIsToldToGoOn() throws Exception {
        var owner = GatewayTestKeys.create("continue-team", "read", "write");
        String uploadUrl = given().header("x-api-key", owner.secret()).contentType(ContentType.JSON)
                .body(Map.of("name", "small", "description", "", "source", "gitee", "format", "jsonl", "version", "v1"))
                .post("/v1/datasets/upload").then().statusCode(200).extract().path("upload_url");
        String record = "{\"repository\":\"a/b\",\"issue_title\":\"t\",\"issue_description\":\"d\","
                + "\"issue_type\":\"question\",\"created_at\":\"2024-01-01\",\"resolution\":\"r\"}";
        // This client sends the body only after "100 Continue" (or a final answer), with no fallback.
        HttpResponse<String> answer = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(HttpRequest.newBuilder(URI.create(uploadUrl))
                .header("x-api-key", owner.secret()).expectContinue(true).timeout(Duration.ofSeconds(30))
                .PUT(HttpRequest.BodyPublishers.ofString(record)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, answer.statusCode(), answer.body());
        assertTrue(answer.body().contains("\"status\":\"ready\""), answer.body());
    }

    /**
     * An upload that asks to continue is answered by dataset-service: a URL it does not take (unknown, or
     * another team's) is refused before "100 Continue", so the client never sends its body; the gateway
     * closes the connection after the refusal instead of reading the body that the request announced.
     */
    @Test
    void anUploadToAURLTheServiceRefusesIsRefusedBeforeTheClientSendsItsBody() throws Exception {
        var owner = GatewayTestKeys.create("continue-team", "read", "write");
        String bogus = "/v1/datasets/upload/upl-00000000000000000000000000000000";
        try (java.net.Socket socket = new java.net.Socket(gateway.getHost(), gateway.getPort())) {
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write(("PUT " + bogus + " HTTP/1.1\r\nHost: " + gateway.getHost() + "\r\nx-api-key: "
                    + owner.secret() + "\r\nContent-Type: application/x-ndjson\r\nContent-Length: 1000000000\r\n"
                    + "Expect: 100-continue\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
                    java.nio.charset.StandardCharsets.US_ASCII));
            String status = in.readLine();
            assertTrue(status != null && status.startsWith("HTTP/1.1 404"), "first line: " + status);
            StringBuilder head = new StringBuilder();
            for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
                head.append(line.toLowerCase(java.util.Locale.ROOT)).append('\n');
            }
            assertTrue(head.toString().contains("connection: close"), head.toString());
        }
    }

    @Test
    void uploadValidateListAndDeleteTheSampleDatasetThroughTheGateway() throws Exception {
        Path sample = Path.of(System.getProperty("mlinfra.root"), "samples/datasets/gitops-issues.jsonl");
        byte[] file = Files.readAllBytes(sample);
        long records = Files.readAllLines(sample).stream().filter(l -> !l.isBlank()).count();
        var owner = GatewayTestKeys.create("flow-team", "read", "write");
        var stranger = GatewayTestKeys.create("other-team", "read", "write");

        String uploadUrl = given().header("x-api-key", owner.secret()).contentType(ContentType.JSON)
                .body(Map.of("name", "gitops-issues", "description", "sample", "source", "github", "format", "jsonl",
                        "version", "v1.0.0"))
                .post("/v1/datasets/upload").then().statusCode(200)
                .body("status", equalTo("pending"))
                .body("upload_url", startsWith(gateway.toString() + "v1/datasets/upload/"))
                .extract().path("upload_url");

        // Another team cannot use the URL; its owner can, once.
        given().header("x-api-key", stranger.secret()).body(file).put(uploadUrl).then().statusCode(404);
        given().header("x-api-key", owner.secret()).contentType("application/x-ndjson").body(file).put(uploadUrl)
                .then().statusCode(200).body("status", equalTo("ready"));
        given().header("x-api-key", owner.secret()).body(file).put(uploadUrl).then().statusCode(409);

        given().header("x-api-key", owner.secret()).get("/v1/datasets/gitops-issues").then().statusCode(200)
                .body("status", equalTo("ready")).body("size", equalTo(file.length))
                .body("num_examples", equalTo((int) records))
                .body("metadata.issue_types", equalTo(java.util.List.of("bug", "feature", "question")));
        given().header("x-api-key", owner.secret()).queryParam("status", "ready").get("/v1/datasets").then()
                .statusCode(200).body("datasets.dataset_id", hasItem("gitops-issues"));
        given().header("x-api-key", stranger.secret()).get("/v1/datasets/gitops-issues").then().statusCode(404)
                .body("error.code", equalTo("not_found"));
        int total = given().header("x-api-key", stranger.secret()).get("/v1/datasets").then().statusCode(200)
                .extract().path("total");
        assertEquals(0, total);

        given().header("x-api-key", owner.secret()).delete("/v1/datasets/gitops-issues").then().statusCode(200)
                .body("status", equalTo("deleted"));
        given().header("x-api-key", owner.secret()).get("/v1/datasets/gitops-issues").then().statusCode(404);
    }
}
