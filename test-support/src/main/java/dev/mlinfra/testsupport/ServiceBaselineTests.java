package dev.mlinfra.testsupport;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.commons.identity.VerifiedTokens;
import io.quarkus.arc.Arc;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import java.security.KeyPair;
import java.time.Instant;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * What every mlinfra service promises before any endpoint of its own: it is healthy on its
 * database, publishes metrics and its build version on its management port (and nowhere else) and
 * its OpenAPI document on its HTTP port, refuses callers that
 * did not come through the gateway, and answers the contract's error object for everything it
 * does not serve. A service's test extends this, annotated with {@code @QuarkusTest} and its
 * {@link DevstackResource}, and names one of its public paths.
 */
public abstract class ServiceBaselineTests {

    /** A path under /v1 that this service owns, e.g. {@code /v1/training/jobs}. */
    protected abstract String ownedPath();

    @Test
    void isReadyOnItsMigratedDatabase() {
        Management.given().get("/q/health/ready").then().statusCode(200)
                .body("status", equalTo("UP"))
                .body("checks.find { it.name.contains('Database') }.status", equalTo("UP"));
    }

    @Test
    void publishesPrometheusMetricsAndItsOpenApiDocument() {
        Management.given().get("/q/metrics").then().statusCode(200).body(containsString("jvm_memory_used_bytes"));
        given().accept("application/json").get("/q/openapi").then().statusCode(200).body("openapi", notNullValue());
    }

    @Test
    void servesHealthAndMetricsOnlyOnItsManagementPort() {
        for (String path : new String[] {"/q/metrics", "/q/health", "/q/health/ready", "/q/info"}) {
            given().get(path).then().statusCode(404).contentType(ContentType.JSON)
                    .body("error.code", equalTo("not_found"));
        }
    }

    @Test
    void reportsItsBuildVersionWithoutAToken() {
        String version = System.getProperty("mlinfra.version");
        assertNotNull(version, "the parent pom gives every test JVM mlinfra.version");
        Management.given().accept("application/json").get("/q/info").then().statusCode(200).contentType(ContentType.JSON)
                .body("build.version", equalTo(version));
    }

    @Test
    void refusesRequestsThatDidNotComeThroughTheGateway() {
        given().get(ownedPath()).then().statusCode(401).contentType(ContentType.JSON)
                .body("error.code", equalTo("unauthorized")).body("error.status", equalTo(401));
        given().header("x-api-key", "mlk_0011223344556677_" + "a".repeat(32)).get(ownedPath()).then().statusCode(401);
        // Signed by a key the service does not trust.
        given().header("x-mlinfra-identity", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl").get(ownedPath())
                .then().statusCode(401);
    }

    @Test
    void acceptsATokenSignedWithTheGatewaysKey() {
        given().header("x-mlinfra-identity", TestIdentities.token("team-a", "read", "write")).get(ownedPath())
                .then().statusCode(200);
    }

    @Test
    void refusesTokensTheGatewayDidNotIssueForIt() {
        Identity caller = new Identity("test-team-a", "team-a", Set.of("read", "write"));
        long now = Instant.now().getEpochSecond();
        KeyPair unknown = TestIdentities.newKeyPair();

        assertRefused(TestIdentities.builder(caller).with(c -> c.issuedAt(now - 3600).expiresAt(now - 600)).sign(), "expired");
        assertRefused(TestIdentities.builder(caller).with(c -> c.audience("another-audience")).sign(), "another audience");
        assertRefused(TestIdentities.builder(caller).with(c -> c.issuer("someone-else")).sign(), "another issuer");
        assertRefused(TestIdentities.builder(caller).with(c -> c.remove("team")).sign(), "no team");
        assertRefused(TestIdentities.builder(caller).sign("retired-or-forged", unknown.getPrivate()), "unknown key id");
        assertRefused(TestIdentities.builder(caller).sign(Devstack.IDENTITY_KEY_ID, unknown.getPrivate()),
                "a known key id over another key's signature");
    }

    private void assertRefused(String token, String why) {
        String message = given().header("x-mlinfra-identity", token).get(ownedPath())
                .then().statusCode(401).contentType(ContentType.JSON)
                .body("error.code", equalTo("unauthorized")).body("error.status", equalTo(401))
                .extract().path("error.message");
        assertNotNull(message, why);
    }

    @Test
    void verifiesEachTokenOnceAndRemembersItOnlyUntilItExpires() {
        VerifiedTokens tokens = Arc.container().instance(VerifiedTokens.class).get();
        String reader = TestIdentities.token("team-a", "read", "write");
        String writer = TestIdentities.token("team-a", "write");
        long before = tokens.verifications();
        for (int i = 0; i < 3; i++) {
            given().header("x-mlinfra-identity", reader).get(ownedPath()).then().statusCode(200);
            // the remembered identity keeps its own scopes: still refused by the service's scope check
            assertForbidden(given().header("x-mlinfra-identity", writer).get(ownedPath()).then());
        }
        assertEquals(before + 2, tokens.verifications(), "each token is verified on its first request only");

        // A token that names no team is refused, when it is remembered too.
        String teamless = TestIdentities.builder(new Identity("test-team-a", "team-a", Set.of("read")))
                .with(c -> c.remove("team")).sign();
        assertRefused(teamless, "no team");
        assertRefused(teamless, "no team, remembered");
        assertEquals(before + 3, tokens.verifications(), "a token without a team is verified once too");

        // Past its exp but within the clock skew SmallRye JWT allows: accepted, and verified on every request.
        long now = Instant.now().getEpochSecond();
        String lapsed = TestIdentities.builder(new Identity("test-team-a", "team-a", Set.of("read")))
                .with(c -> c.issuedAt(now - 300).expiresAt(now - 5)).sign();
        given().header("x-mlinfra-identity", lapsed).get(ownedPath()).then().statusCode(200);
        given().header("x-mlinfra-identity", lapsed).get(ownedPath()).then().statusCode(200);
        assertEquals(before + 5, tokens.verifications(), "an expired token is never answered from memory");
    }

    @Test
    void checksTheTokensScopeItselfBesideTheGateway() {
        // its owned path is a read: a token with only the write scope is refused by the service (@RolesAllowed)
        assertForbidden(given().header("x-mlinfra-identity", TestIdentities.token("team-a", "write")).get(ownedPath()).then());
    }

    /** A refusal by the service's own scope check: 403 with the contract's error object naming the scope. */
    public static void assertForbidden(ValidatableResponse response) {
        response.statusCode(403).contentType(ContentType.JSON)
                .body("error.code", equalTo("forbidden")).body("error.status", equalTo(403))
                .body("error.message", containsString("scope"));
    }

    @Test
    void answersTheErrorObjectForWhatItDoesNotServe() {
        given().header("x-mlinfra-identity", TestIdentities.token("team-a", "read", "write"))
                .get("/v1/no-such-endpoint-" + UUID.randomUUID()).then().statusCode(404)
                .contentType(ContentType.JSON)
                .body("error.code", equalTo("not_found")).body("error.status", equalTo(404))
                .body("error.message", containsString("/v1/no-such-endpoint"));
    }

    @Test
    void returnsTheCallersRequestIdOrMakesOne() {
        String id = "trace-" + UUID.randomUUID();
        given().header("X-Request-Id", id).get(ownedPath()).then().header("X-Request-Id", equalTo(id));
        given().get(ownedPath()).then().header("X-Request-Id", notNullValue());
    }
}
