package dev.mlinfra.infra.rest;

import static dev.mlinfra.infra.LedgerHarness.as;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.testsupport.Devstack;
import dev.mlinfra.testsupport.DevstackResource;
import dev.mlinfra.testsupport.TestIdentities;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.Test;

/**
 * The status of the core components, read from the components themselves, and what it says while each
 * of them is down in turn (stopped through the devstack's control channel).
 */
@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "infra"))
class InfrastructureStatusTest {

    /** The probe timeout of the test profile (1s) and room for a loaded build machine. */
    private static final long ANSWER_WITHIN_MS = 1000 + 3000;

    /** The status as an operator (an admin identity) sees it. */
    private static ValidatableResponse status() {
        long started = System.nanoTime();
        ValidatableResponse response = given().header("x-mlinfra-identity", TestIdentities.token("operators", "read", "admin"))
                .get("/v1/infrastructure/status").then().statusCode(200);
        long took = (System.nanoTime() - started) / 1_000_000;
        assertTrue(took < ANSWER_WITHIN_MS, "the status took " + took + " ms");
        return response;
    }

    @Test
    void everyCoreComponentReportsTheVersionItSays() throws Exception {
        String postgresVersion;
        try (Connection c = Devstack.connect("infra"); ResultSet rs = c.createStatement().executeQuery("SHOW server_version")) {
            rs.next();
            postgresVersion = rs.getString(1);
        }
        String server = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(Devstack.s3Endpoint() + "/"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding())
                .headers().firstValue("Server").orElseThrow();
        // the broker runs the Kafka release of the client library beside it in this build
        String[] kafka = AppInfoParser.getVersion().split("\\.");
        // The first Kafka probe also connects the probe's admin client, which a loaded machine may
        // not do within the test profile's 1 s.
        as("team-a").get("/v1/infrastructure/status").then().statusCode(200);

        status().body("status", equalTo("healthy"))
                .body("components.postgresql.status", equalTo("healthy"))
                .body("components.postgresql.version", equalTo(postgresVersion))
                .body("components.postgresql.endpoint", containsString(String.valueOf(Devstack.postgresPort())))
                .body("components.postgresql.endpoint", not(containsString(Devstack.postgresPassword())))
                .body("components.kafka.status", equalTo("healthy"))
                .body("components.kafka.version", equalTo(kafka[0] + "." + kafka[1]))
                .body("components.kafka.brokers", equalTo(1))
                .body("components.object_storage.status", equalTo("healthy"))
                .body("components.object_storage.product", equalTo(server.substring(0, server.indexOf('('))))
                .body("components.object_storage.version", equalTo(server.substring(server.indexOf('(') + 1, server.indexOf(')'))))
                .body("components.infra_service.status", equalTo("healthy"))
                .body("components.infra_service.version", notNullValue())
                .body("components.kafka.cluster_id", notNullValue())
                .body("components.object_storage.bucket", notNullValue());
    }

    @Test
    void aTeamSeesEachComponentsHealthButNotWhereItRuns() {
        as("team-a").get("/v1/infrastructure/status").then().statusCode(200)
                .body("status", equalTo("healthy"))
                .body("components.postgresql.status", equalTo("healthy"))
                .body("components.postgresql.version", notNullValue())
                .body("components.postgresql", not(hasKey("endpoint")))
                .body("components.kafka.status", equalTo("healthy"))
                .body("components.kafka", not(hasKey("endpoint"))).body("components.kafka", not(hasKey("cluster_id")))
                .body("components.object_storage.status", equalTo("healthy"))
                .body("components.object_storage", not(hasKey("endpoint"))).body("components.object_storage", not(hasKey("bucket")))
                .body("components.infra_service.status", equalTo("healthy"))
                .body("resources.memory_usage", matchesPattern("\\d{1,3}%"));
    }

    @Test
    void resourcesAreMeasuredAndAMachineWithoutGpusSaysSo() {
        ValidatableResponse r = status();
        r.body("resources.memory_usage", matchesPattern("\\d{1,3}%"))
                .body("resources.storage_usage", matchesPattern("\\d{1,3}%"))
                .body("resources.gpu_allocated", equalTo(0))
                .body("resources.gpu_pools[0].name", equalTo("local"))
                .body("resources.gpu_pools[0].kind", equalTo("slot"));
        if (r.extract().path("resources.gpus").equals(0)) {
            r.body("resources", hasKey("gpu_usage")).body("resources.gpu_usage", nullValue());
        } else {
            r.body("resources.gpu_usage", matchesPattern("\\d{1,3}%"));
        }
    }

    @Test
    void kafkaDownMakesThePlatformUnhealthyAndNamesIt() {
        Devstack.stopKafka();
        try {
            status().body("status", equalTo("unhealthy"))
                    .body("components.kafka.status", equalTo("unhealthy"))
                    .body("components.kafka.reason", notNullValue())
                    .body("components.postgresql.status", equalTo("healthy"))
                    .body("components.object_storage.status", equalTo("healthy"));
        } finally {
            Devstack.startKafka();
        }
        status().body("components.kafka.status", equalTo("healthy"));
    }

    @Test
    void objectStoreDownMakesThePlatformUnhealthyAndNamesIt() {
        Devstack.stopS3();
        try {
            status().body("status", equalTo("unhealthy"))
                    .body("components.object_storage.status", equalTo("unhealthy"))
                    .body("components.object_storage.reason", notNullValue())
                    .body("components.kafka.status", equalTo("healthy"));
        } finally {
            Devstack.startS3();
        }
        status().body("status", equalTo("healthy"));
    }

    @Test
    void postgresDownMakesThePlatformUnhealthyAndTheLedgerUnknown() {
        Devstack.stopPostgres();
        try {
            status().body("status", equalTo("unhealthy"))
                    .body("components.postgresql.status", equalTo("unhealthy"))
                    .body("components.postgresql.reason", notNullValue())
                    .body("components.kafka.status", equalTo("healthy"))
                    .body("resources.cpu_usage", notNullValue())
                    .body("resources", not(hasKey("gpu_pools")));
        } finally {
            Devstack.startPostgres();
        }
        status().body("status", equalTo("healthy"));
    }

    /**
     * PostgreSQL that hangs (connections open, nothing answered) rather than refusing: the status still
     * answers within the probe timeout, PostgreSQL unhealthy.
     */
    @Test
    void aDatabaseThatHangsIsUnhealthyWithinTheProbeTimeout() throws Exception {
        Devstack.freezePostgres();
        try {
            long started = System.nanoTime();
            HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + io.restassured.RestAssured.port + "/v1/infrastructure/status"))
                    .header("x-mlinfra-identity", TestIdentities.token("operators", "read", "admin"))
                    .timeout(java.time.Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
            long took = (System.nanoTime() - started) / 1_000_000;
            assertTrue(answer.statusCode() == 200 && answer.body().contains("\"postgresql\":{\"status\":\"unhealthy\""),
                    answer.statusCode() + " " + answer.body());
            assertTrue(took < ANSWER_WITHIN_MS, "the status took " + took + " ms");
        } finally {
            Devstack.thawPostgres();
        }
        status().body("status", equalTo("healthy"));
    }

    @Test
    void theStatusNeedsTheGatewaysIdentity() {
        io.restassured.RestAssured.given().get("/v1/infrastructure/status").then().statusCode(401)
                .body("error.code", equalTo("unauthorized"));
    }
}
