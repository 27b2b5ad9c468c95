package dev.mlinfra.datasets.rest;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.storage.ObjectStore;
import dev.mlinfra.testsupport.DevstackResource;
import dev.mlinfra.testsupport.TestIdentities;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import io.restassured.RestAssured;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "datasets"))
public class DatasetApiTest {

    public static final Path SAMPLE = Path.of(System.getProperty("mlinfra.root"), "samples/datasets/gitops-issues.jsonl");
    public static final String RECORD = "{\"repository\":\"fluxcd/flux2\",\"issue_title\":\"Kustomization stuck\","
            + "\"issue_description\":\"Reconcile never ends.\",\"issue_type\":\"bug\",\"created_at\":\"2024-05-01T10:00:00Z\","
            + "\"resolution\":\"Upgrade to 2.3\"}";

    @Inject
    ObjectStore store;

    public static RequestSpecification as(String team) {
        return given().header("x-mlinfra-identity", TestIdentities.token(team, "read", "write"));
    }

    public static String name() {
        return "ds-" + UUID.randomUUID().toString().substring(0, 8);
    }

    public static JsonPath create(String team, String name, String format) {
        return as(team).contentType(ContentType.JSON)
                .body(Map.of("name", name, "description", "test data", "source", "github", "format", format,
                        "version", "v1.0.0"))
                .post("/v1/datasets/upload")
                .then().statusCode(200)
                .body("dataset_id", equalTo(name)).body("status", equalTo("pending"))
                .body("created_at", notNullValue())
                .body("upload_url", startsWith("http://127.0.0.1:8080/v1/datasets/upload/upl-"))
                .extract().jsonPath();
    }

    public static String uploadPath(JsonPath created) {
        String url = created.getString("upload_url");
        return url.substring(url.indexOf("/v1/"));
    }

    public static JsonPath upload(String team, JsonPath created, byte[] body) {
        return as(team).contentType("application/x-ndjson").body(body).put(uploadPath(created))
                .then().statusCode(200).extract().jsonPath();
    }

    private void assertFailedWithoutObject(String team, String name, byte[] body, String format, String reasonPart) {
        JsonPath created = create(team, name, format);
        JsonPath result = upload(team, created, body);
        assertEquals("failed", result.getString("status"), result.prettify());
        assertTrue(result.getString("failure.reason").contains(reasonPart), result.getString("failure.reason"));
        assertTrue(result.getInt("failure.error_count") >= 1);
        as(team).get("/v1/datasets/" + name).then().statusCode(200).body("status", equalTo("failed"));
        assertEquals(0, store.removeAll("datasets/" + team + "/" + name + "/"), "no object is left behind");
    }

    @Test
    void theSampleDatasetBecomesReadyWithExactStatistics() throws Exception {
        byte[] bytes = Files.readAllBytes(SAMPLE);
        String name = name();
        JsonPath created = create("team-a", name, "jsonl");
        JsonPath ready = upload("team-a", created, bytes);
        assertEquals("ready", ready.getString("status"), ready.prettify());

        ObjectMapper mapper = new ObjectMapper();
        TreeSet<String> repos = new TreeSet<>();
        TreeSet<String> types = new TreeSet<>();
        LocalDate min = LocalDate.MAX;
        LocalDate max = LocalDate.MIN;
        int records = 0;
        for (String line : Files.readAllLines(SAMPLE)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode r = mapper.readTree(line);
            records++;
            repos.add(r.get("repository").asText());
            types.add(r.get("issue_type").asText());
            LocalDate d = OffsetDateTime.parse(r.get("created_at").asText()).withOffsetSameInstant(ZoneOffset.UTC).toLocalDate();
            min = d.isBefore(min) ? d : min;
            max = d.isAfter(max) ? d : max;
        }
        as("team-a").get("/v1/datasets/" + name).then().statusCode(200)
                .body("status", equalTo("ready"))
                .body("size", equalTo(bytes.length))
                .body("num_examples", equalTo(records))
                .body("metadata.repositories", equalTo(java.util.List.copyOf(repos)))
                .body("metadata.issue_types", equalTo(java.util.List.copyOf(types)))
                .body("metadata.date_range", contains(min.toString(), max.toString()))
                .body("checksum_sha256", equalTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes))))
                .body("upload_url", nullValue());
        String key = "datasets/team-a/" + name + "/v1.0.0/data.jsonl";
        assertTrue(store.exists(key));
        try (var in = store.get(key)) {
            assertEquals(bytes.length, in.readAllBytes().length, "the stored object is the file as uploaded");
        }
        // The internal view other services use.
        as("team-a").get("/internal/v1/datasets/" + name).then().statusCode(200)
                .body("status", equalTo("ready")).body("object_uri", equalTo("s3://mlinfra/" + key))
                .body("num_examples", equalTo(records));
    }

    @Test
    void aJsonArrayFileIsAcceptedToo() throws IOException {
        byte[] bytes = Files.readAllBytes(SAMPLE.resolveSibling("gitops-issues.json"));
        String name = name();
        JsonPath ready = upload("team-a", create("team-a", name, "json"), bytes);
        assertEquals("ready", ready.getString("status"));
        assertEquals(Files.readAllLines(SAMPLE).size(), ready.getInt("num_examples"));
    }

    @Test
    void anUploadUrlWorksOnce() {
        JsonPath created = create("team-a", name(), "jsonl");
        // Another method than PUT is refused as such, and leaves the URL usable.
        for (String method : List.of("GET", "POST", "DELETE")) {
            as("team-a").body(RECORD).request(method, uploadPath(created)).then().statusCode(405)
                    .header("Allow", "OPTIONS, PUT").body("error.code", equalTo("method_not_allowed"))
                    .body("error.message", equalTo("Method " + method + " is not allowed on " + uploadPath(created)
                            + "; it takes OPTIONS, PUT"));
        }
        as("team-a").options(uploadPath(created)).then().statusCode(200).header("Allow", "OPTIONS, PUT");
        upload("team-a", created, RECORD.getBytes(StandardCharsets.UTF_8));
        as("team-a").body(RECORD).put(uploadPath(created)).then().statusCode(409)
                .body("error.code", equalTo("conflict")).body("error.message", containsString("once"));
    }

    @Test
    void eachKindOfBadFileEndsFailedWithAPreciseReasonAndNoObject() {
        assertFailedWithoutObject("team-a", name(), (RECORD + "\n" + RECORD.substring(0, 30)).getBytes(StandardCharsets.UTF_8),
                "jsonl", "record 2: malformed JSON");
        assertFailedWithoutObject("team-a", name(), RECORD.replace("\"bug\"", "7").getBytes(StandardCharsets.UTF_8),
                "jsonl", "field 'issue_type': expected a string");
        assertFailedWithoutObject("team-a", name(), RECORD.replace("\"issue_title\":\"Kustomization stuck\",", "")
                .getBytes(StandardCharsets.UTF_8), "jsonl", "field 'issue_title': missing required field");
        assertFailedWithoutObject("team-a", name(), RECORD.replace("2024-05-01T10:00:00Z", "yesterday")
                .getBytes(StandardCharsets.UTF_8), "jsonl", "field 'created_at'");
        assertFailedWithoutObject("team-a", name(), new byte[0], "jsonl", "The file is empty");
        assertFailedWithoutObject("team-a", name(), "[]".getBytes(StandardCharsets.UTF_8), "json", "no records");
        byte[] notUtf8 = RECORD.getBytes(StandardCharsets.UTF_8);
        notUtf8[RECORD.indexOf("Reconcile")] = (byte) 0xC3;
        notUtf8[RECORD.indexOf("Reconcile") + 1] = (byte) 0x28;
        assertFailedWithoutObject("team-a", name(), notUtf8, "jsonl", "UTF-8");
        String huge = RECORD.replace("Reconcile never ends.", "y".repeat(10 * 1024 * 1024));
        assertFailedWithoutObject("team-a", name(), huge.getBytes(StandardCharsets.UTF_8), "jsonl",
                "field 'issue_description': a string value is longer than the limit");
    }

    @Test
    void invalidRequestsNameTheField() throws Exception {
        as("team-a").contentType(ContentType.JSON).body(Map.of("description", "x", "source", "github", "format", "json",
                "version", "v1")).post("/v1/datasets/upload").then().statusCode(400).body("error.message", containsString("'name'"));
        as("team-a").contentType(ContentType.JSON).body(Map.of("name", "Bad Name", "source", "github", "format", "json",
                "version", "v1")).post("/v1/datasets/upload").then().statusCode(400).body("error.message", containsString("'name'"));
        as("team-a").contentType(ContentType.JSON).body(Map.of("name", name(), "source", "gitlab", "format", "json",
                "version", "v1")).post("/v1/datasets/upload").then().statusCode(400).body("error.message", containsString("'source'"));
        as("team-a").contentType(ContentType.JSON).body(Map.of("name", name(), "source", "github", "format", "csv",
                "version", "v1")).post("/v1/datasets/upload").then().statusCode(400).body("error.message", containsString("'format'"));
        as("team-a").contentType(ContentType.JSON).body(Map.of("name", name(), "source", "github", "format", "json",
                "version", "v1", "colour", "red")).post("/v1/datasets/upload").then().statusCode(400)
                .body("error.message", containsString("colour"));
        as("team-a").contentType(ContentType.JSON).body("{\"name\": 5").post("/v1/datasets/upload").then().statusCode(400)
                .body("error.code", equalTo("invalid_request"));
        // Characters as a person counts them: 2000 emoji are 2000 characters (4000 UTF-16 units), the limit.
        String emoji = "\uD83D\uDD25";
        as("team-a").contentType(ContentType.JSON).body(Map.of("name", name(), "description", emoji.repeat(2000), "source",
                "github", "format", "json", "version", "v1")).post("/v1/datasets/upload").then().statusCode(200)
                .body("description", equalTo(emoji.repeat(2000)));
        // Half of a surrogate pair (escaped in JSON) is no character: refused, not stored as "?".
        String halfPair = name();
        as("team-a").contentType(ContentType.JSON).body("{\"name\": \"" + halfPair + "\", \"description\": \"fire \\ud83d\","
                + " \"source\": \"github\", \"format\": \"json\", \"version\": \"v1\"}").post("/v1/datasets/upload").then()
                .statusCode(400).body("error.message", startsWith("Invalid value for field 'description': the text holds"
                        + " \\ud83d, half of a UTF-16 surrogate pair"));
        as("team-a").get("/v1/datasets/" + halfPair).then().statusCode(404);
        as("team-a").contentType(ContentType.JSON).body(Map.of("name", name(), "description", "d".repeat(2001), "source",
                "github", "format", "json", "version", "v1")).post("/v1/datasets/upload").then().statusCode(400)
                .body("error.message", containsString("'description' must be at most 2000 characters"));
        as("team-a").contentType(ContentType.TEXT).body("name=x").post("/v1/datasets/upload").then().statusCode(415)
                .body("error.code", equalTo("unsupported_media_type"));
        // JSON in another charset than UTF-8 is said to be so, not read as other text or called invalid.
        as("team-a").contentType("application/json; charset=UTF-16").body("{\"name\": \"x\"}".getBytes(
                java.nio.charset.StandardCharsets.UTF_16)).post("/v1/datasets/upload").then().statusCode(415)
                .body("error.message", startsWith("Charset 'UTF-16' is not supported"));
        // A body whose type is given twice, differently: which one holds is anybody's guess, so neither does.
        HttpResponse<String> twoTypes = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(HttpRequest.newBuilder(uri("/v1/datasets/upload"))
                .header("x-mlinfra-identity", TestIdentities.token("team-a", "read", "write"))
                .header("Content-Type", "application/json").header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\": \"x\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(400, twoTypes.statusCode(), twoTypes.body());
        assertEquals("Header 'Content-Type' is given 2 times with different values (application/json, text/plain); send it"
                + " once", JsonPath.from(twoTypes.body()).getString("error.message"));
        as("team-a").contentType(ContentType.JSON).body("{}").patch("/v1/datasets/some-name").then().statusCode(405)
                .header("Allow", "DELETE, GET, HEAD, OPTIONS").body("error.code", equalTo("method_not_allowed"))
                .body("error.message", equalTo("Method PATCH is not allowed on /v1/datasets/some-name; it takes DELETE, GET,"
                        + " HEAD, OPTIONS"));
        // OPTIONS names what the path takes, not every method of the resource
        as("team-a").options("/v1/datasets").then().statusCode(200).header("Allow", "GET, HEAD, OPTIONS");
        as("team-a").options("/v1/datasets/some-name").then().statusCode(200).header("Allow", "DELETE, GET, HEAD, OPTIONS");
        // A path below a dataset that no endpoint has is said as such, not in the framework's words.
        as("team-a").get("/v1/datasets/some-name/nope").then().statusCode(404).body("error.code", equalTo("not_found"))
                .body("error.message", equalTo("No endpoint GET /v1/datasets/some-name/nope in API v1"));
        as("team-a").contentType(ContentType.JSON).body("[1, 2]").post("/v1/datasets/upload").then().statusCode(400)
                .body("error.code", equalTo("invalid_request"));
        as("team-a").queryParam("status", "done").get("/v1/datasets").then().statusCode(400)
                .body("error.message", containsString("'status'"));
        as("team-a").queryParam("source", "svn").get("/v1/datasets").then().statusCode(400)
                .body("error.message", containsString("'source'"));
        as("team-a").queryParam("limit", "101").get("/v1/datasets").then().statusCode(400)
                .body("error.message", containsString("'limit'"));
        as("team-a").queryParam("offset", "-1").get("/v1/datasets").then().statusCode(400)
                .body("error.message", containsString("'offset'"));
    }

    @Test
    void aBodyThatIsNotJsonSaysWhatIsWrongAndWhere() {
        as("team-a").contentType(ContentType.JSON).body("{\"name\":").post("/v1/datasets/upload").then().statusCode(400)
                .body("error.code", equalTo("invalid_request"))
                .body("error.message", containsString("not valid JSON"))
                .body("error.message", containsString("line 1, column 9"));
        as("team-a").contentType(ContentType.JSON).body("{\"name\": \"x\",\n \"source\": github}").post("/v1/datasets/upload")
                .then().statusCode(400).body("error.message", containsString("not valid JSON"))
                .body("error.message", containsString("line 2"));
        // Read no deeper than needed: the first level already shows that this is no dataset.
        String deep = "[".repeat(5000) + "]".repeat(5000);
        as("team-a").contentType(ContentType.JSON).body(deep).post("/v1/datasets/upload").then().statusCode(400)
                .body("error.code", equalTo("invalid_request"))
                .body("error.message", equalTo("Request body must be a JSON object"));
        as("team-a").contentType(ContentType.JSON).body("").post("/v1/datasets/upload").then().statusCode(400)
                .body("error.message", containsString("'body' is required"));
    }

    @Test
    void theSameNameTwiceInATeamIsAConflictButAnotherTeamMayUseIt() {
        String name = name();
        create("team-a", name, "jsonl");
        as("team-a").contentType(ContentType.JSON).body(Map.of("name", name, "description", "again", "source", "github",
                "format", "jsonl", "version", "v2.0.0")).post("/v1/datasets/upload")
                .then().statusCode(409).body("error.code", equalTo("conflict"));
        create("team-b", name, "jsonl");
    }

    @Test
    void listsFilterPaginateAndKeepANewestFirstOrder() {
        String team = "list-" + UUID.randomUUID().toString().substring(0, 6);
        for (int i = 0; i < 3; i++) {
            JsonPath c = create(team, "ok-" + i, "jsonl");
            upload(team, c, RECORD.getBytes(StandardCharsets.UTF_8));
        }
        as(team).contentType(ContentType.JSON).body(Map.of("name", "gitee-one", "description", "d", "source", "gitee",
                "format", "jsonl", "version", "v1")).post("/v1/datasets/upload").then().statusCode(200);
        JsonPath bad = create(team, "broken", "jsonl");
        upload(team, bad, "{".getBytes(StandardCharsets.UTF_8));

        as(team).get("/v1/datasets").then().statusCode(200).body("total", equalTo(5)).body("limit", equalTo(10))
                .body("offset", equalTo(0)).body("datasets.dataset_id", contains("broken", "gitee-one", "ok-2", "ok-1", "ok-0"));
        as(team).queryParam("status", "ready").get("/v1/datasets").then()
                .body("total", equalTo(3)).body("datasets.dataset_id", contains("ok-2", "ok-1", "ok-0"));
        as(team).queryParam("status", "failed").get("/v1/datasets").then().body("datasets.dataset_id", contains("broken"));
        as(team).queryParam("source", "gitee").get("/v1/datasets").then()
                .body("total", equalTo(1)).body("datasets[0].status", equalTo("pending"));
        as(team).queryParam("limit", "2").queryParam("offset", "2").get("/v1/datasets").then()
                .body("total", equalTo(5)).body("datasets", hasSize(2)).body("datasets.dataset_id", contains("ok-2", "ok-1"));
        // A parameter given twice is refused, not read as its first value.
        as(team).get("/v1/datasets?status=ready&status=failed").then().statusCode(400)
                .body("error.code", equalTo("invalid_request"))
                .body("error.message", equalTo("Query parameter 'status' is given 2 times; give it once"));
        // One given without a value is refused, not read as absent (the whole list for a filter).
        for (String empty : List.of("status=", "limit=", "offset=", "source=")) {
            as(team).get("/v1/datasets?" + empty).then().statusCode(400).body("error.code", equalTo("invalid_request"))
                    .body("error.message", equalTo("Query parameter '" + empty.substring(0, empty.indexOf('='))
                            + "' is given without a value; give it a value or leave it out"));
        }
        // One the endpoint does not take is refused naming those it takes, not ignored (paging by it would
        // answer the first page forever).
        as(team).get("/v1/datasets?cursor=abc").then().statusCode(400).body("error.code", equalTo("invalid_request"))
                .body("error.message", equalTo("Unknown query parameter 'cursor'; this endpoint takes limit, offset, source,"
                        + " status"));
        as(team).get("/v1/datasets/ok-1?verbose=1").then().statusCode(400)
                .body("error.message", equalTo("Unknown query parameter 'verbose'; this endpoint takes none"));
    }

    @Test
    void anotherTeamsDatasetIsNotFoundEverywhere() {
        String name = name();
        JsonPath created = create("team-a", name, "jsonl");
        as("team-b").get("/v1/datasets/" + name).then().statusCode(404).body("error.code", equalTo("not_found"));
        as("team-b").body(RECORD).put(uploadPath(created)).then().statusCode(404);
        as("team-b").delete("/v1/datasets/" + name).then().statusCode(404);
        as("team-b").get("/internal/v1/datasets/" + name).then().statusCode(404);
        as("team-b").get("/v1/datasets").then().body("datasets.dataset_id", org.hamcrest.Matchers.not(org.hamcrest.Matchers.hasItem(name)));
        upload("team-a", created, RECORD.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void deletingRemovesTheStoredObjects() {
        String name = name();
        upload("team-a", create("team-a", name, "jsonl"), RECORD.getBytes(StandardCharsets.UTF_8));
        String key = "datasets/team-a/" + name + "/v1.0.0/data.jsonl";
        assertTrue(store.exists(key));
        as("team-a").delete("/v1/datasets/" + name).then().statusCode(200)
                .body("dataset_id", equalTo(name)).body("status", equalTo("deleted")).body("message", notNullValue());
        assertFalse(store.exists(key));
        as("team-a").get("/v1/datasets/" + name).then().statusCode(404);
        as("team-a").delete("/v1/datasets/" + name).then().statusCode(404);
    }

    @Test
    void requestsWithoutAGatewayIdentityAreRefused() {
        given().get("/v1/datasets").then().statusCode(401).body("error.code", equalTo("unauthorized"));
        given().get("/internal/v1/datasets/x").then().statusCode(401);
        given().body(RECORD).put("/v1/datasets/upload/upl-x").then().statusCode(401).body("error.code", equalTo("unauthorized"));
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + RestAssured.port + path);
    }

    @Test
    void aChunkedUploadAndAClientThatWaitsFor100ContinueBothWork() throws Exception {
        byte[] bytes = Files.readAllBytes(SAMPLE);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        String token = TestIdentities.token("team-a", "read", "write");
        // No Content-Length: the body comes in chunks of unknown total length.
        String chunkedName = name();
        HttpResponse<String> chunked = http.send(HttpRequest.newBuilder(uri(uploadPath(create("team-a", chunkedName, "jsonl"))))
                .header("x-mlinfra-identity", token)
                .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(bytes))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, chunked.statusCode(), chunked.body());
        JsonPath ready = JsonPath.from(chunked.body());
        assertEquals("ready", ready.getString("status"));
        assertEquals(bytes.length, ready.getLong("size"));
        // Expect: 100-continue: the client sends the body only once the service has accepted the upload.
        String waitingName = name();
        String waitingPath = uploadPath(create("team-a", waitingName, "jsonl"));
        HttpResponse<String> waiting = http.send(HttpRequest.newBuilder(uri(waitingPath)).expectContinue(true)
                .header("x-mlinfra-identity", token).timeout(Duration.ofSeconds(30))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, waiting.statusCode(), waiting.body());
        assertEquals("ready", JsonPath.from(waiting.body()).getString("status"));
        // Refused before any byte of the body is read: answered at once, with the error object.
        HttpResponse<String> again = http.send(HttpRequest.newBuilder(uri(waitingPath)).expectContinue(true)
                .header("x-mlinfra-identity", token).timeout(Duration.ofSeconds(30))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(409, again.statusCode());
        assertEquals("conflict", JsonPath.from(again.body()).getString("error.code"));
    }

    @Test
    void anUploadThatBreaksOffEndsFailedAndKeepsNoObject() throws Exception {
        String name = name();
        String path = uploadPath(create("team-a", name, "jsonl"));
        byte[] part = (RECORD + "\n").repeat(2000).getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket("127.0.0.1", RestAssured.port)) {
            OutputStream out = socket.getOutputStream();
            out.write(("PUT " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nx-mlinfra-identity: " + TestIdentities.token("team-a", "write")
                    + "\r\nContent-Type: application/x-ndjson\r\nContent-Length: " + (part.length * 10L) + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(part);
            out.flush();
            Thread.sleep(300);
            // A second PUT while the first is still arriving is told so, not that the file was uploaded.
            as("team-a").body(RECORD).put(path).then().statusCode(409)
                    .body("error.message", containsString("is being uploaded on this URL now"));
        }
        String status = null;
        for (int i = 0; i < 100 && !"failed".equals(status); i++) {
            Thread.sleep(100);
            status = as("team-a").get("/v1/datasets/" + name).then().statusCode(200).extract().path("status");
        }
        as("team-a").get("/v1/datasets/" + name).then().statusCode(200)
                .body("status", equalTo("failed"))
                .body("failure.reason", containsString("The upload was interrupted after"))
                .body("failure.reason", containsString("delete the dataset and create it again"))
                // the one problem counted is listed too, as the file's
                .body("failure.error_count", equalTo(1)).body("failure.errors[0].record", equalTo(0))
                .body("failure.errors[0].message", containsString("The upload was interrupted after"));
        assertEquals(0, store.removeAll("datasets/team-a/" + name + "/"), "no object is left behind");
        as("team-a").body(RECORD).put(path).then().statusCode(409)
                .body("error.message", containsString("delete the dataset and create it again"));
    }

    @Test
    void theOpenApiDocumentDescribesTheFileUpload() {
        given().get("/q/openapi?format=json").then().statusCode(200)
                .body("paths.'/v1/datasets/upload/{upload_id}'.put.summary", containsString("Upload the dataset's file"))
                .body("paths.'/v1/datasets/upload'.post", notNullValue())
                .body("paths.'/v1/datasets/{dataset_id}'.get", notNullValue());
    }
}
