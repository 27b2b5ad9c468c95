package dev.mlinfra.gateway.http;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.commons.http.Redaction;
import dev.mlinfra.gateway.GatewayTestBackends;
import dev.mlinfra.gateway.GatewayTestKeys;
import dev.mlinfra.testsupport.DevstackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Whatever a client does with its key (the query string, a header, the path), neither the
 * gateway's log nor the log of the service behind it keeps the key: the real log files are read.
 */
@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "gateway"))
@QuarkusTestResource(value = GatewayTestBackends.class, restrictToAnnotatedClass = true)
class CredentialsInLogsTest {

    @Test
    void keysAndTokensSentInAnyPlaceNeverReachTheLogs() throws Exception {
        var key = GatewayTestKeys.create("team-logs", "read");
        String token = "tok-" + UUID.randomUUID();
        String probe = UUID.randomUUID().toString();

        // A new user's first try: the key in the query string, no header. Refused, as before.
        given().get("/v1/datasets?x-api-key=" + key.secret() + "&probe=" + probe + "-query").then().statusCode(401);
        // Header and query string both, in other spellings of the parameter.
        // (dataset-service refuses the parameters it does not take, naming them, never their values)
        given().header("x-api-key", key.secret()).get("/v1/datasets?API_KEY=" + key.secret() + "&probe=" + probe + "-upper")
                .then().statusCode(400).body("error.message", containsString("Unknown query parameters 'API_KEY', 'probe'"))
                .body("error.message", not(containsString(key.secret())));
        // The OpenAI SDKs' header, with a token and an access_token in the query string.
        given().header("Authorization", "Bearer " + key.secret())
                .get("/v1/datasets?token=" + token + "&access_token=" + token + "&key=" + token + "&probe=" + probe + "-bearer")
                .then().statusCode(400).body("error.message", not(containsString(token)));
        // A key where no parameter name gives it away: in a path segment and in an ordinary parameter.
        given().header("x-api-key", key.secret()).get("/v1/datasets/" + key.secret() + "?probe=" + probe + "-path")
                .then().statusCode(not(401));
        given().header("x-api-key", key.secret()).get("/v1/datasets?status=" + key.secret() + "&probe=" + probe + "-value")
                .then().statusCode(not(401));

        List<String> probes = List.of("-query", "-upper", "-bearer", "-path", "-value");
        List<String> gatewayLines = awaitLines(GatewayTestBackends.GATEWAY_LOG, probe, probes);
        // requests the gateway let through reached dataset-service with their query strings
        List<String> serviceLines = awaitLines(GatewayTestBackends.datasetServiceLog(), probe, probes.subList(1, probes.size()));
        for (Path log : List.of(GatewayTestBackends.GATEWAY_LOG, GatewayTestBackends.datasetServiceLog())) {
            String text = Files.readString(log);
            assertFalse(text.contains(key.secret().substring(21)), "the secret of an API key reached " + log + ":\n" + text);
            assertFalse(text.contains(token), "a token reached " + log + ":\n" + text);
        }
        for (String suffix : probes) {
            assertTrue(gatewayLines.stream().anyMatch(l -> l.contains(probe + suffix) && l.contains(Redaction.MARKER)),
                    "the access-log line of " + suffix + " shows the marker: " + gatewayLines);
        }
        assertTrue(gatewayLines.stream().anyMatch(l -> l.contains(
                "\"GET /v1/datasets?x-api-key=" + Redaction.MARKER + "&probe=" + probe + "-query HTTP/1.1\" 401")), gatewayLines.toString());
        assertTrue(gatewayLines.stream().anyMatch(l -> l.contains("?token=" + Redaction.MARKER + "&access_token=" + Redaction.MARKER
                + "&key=" + Redaction.MARKER + "&probe=")), gatewayLines.toString());
        assertTrue(gatewayLines.stream().anyMatch(l -> l.contains("/v1/datasets/" + Redaction.MARKER + "?probe=")), gatewayLines.toString());
        assertTrue(serviceLines.stream().anyMatch(l -> l.contains("?API_KEY=" + Redaction.MARKER + "&probe=")), serviceLines.toString());
    }

    /** The lines of {@code log} that name the probe, once every suffix's line is there (the access log is written after the response). */
    private static List<String> awaitLines(Path log, String probe, List<String> suffixes) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (true) {
            List<String> lines = Files.exists(log) ? Files.readAllLines(log).stream().filter(l -> l.contains(probe)).toList() : List.of();
            boolean all = suffixes.stream().allMatch(s -> lines.stream().anyMatch(l -> l.contains(probe + s)));
            if (all || System.nanoTime() > deadline) {
                assertTrue(all, "every probe is logged in " + log + ": " + lines);
                return lines;
            }
            Thread.sleep(100);
        }
    }
}
