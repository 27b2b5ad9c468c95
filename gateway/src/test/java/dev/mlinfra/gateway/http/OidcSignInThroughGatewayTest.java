package dev.mlinfra.gateway.http;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.gateway.GatewayTestKeys;
import dev.mlinfra.gateway.InferenceStub;
import dev.mlinfra.gateway.OidcProviders;
import dev.mlinfra.testsupport.DevstackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.smallrye.jwt.auth.principal.DefaultJWTParser;
import io.smallrye.jwt.auth.principal.JWTAuthContextInfo;
import java.net.URI;
import java.net.URL;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.jwt.JsonWebToken;
import org.junit.jupiter.api.Test;

/**
 * Sign-in with Bearer JWTs of external OpenID Connect providers: two configured providers with their
 * own claim mappings, tokens signed by them (and by a provider the gateway does not know, and by a
 * forger), refusals in the contract's (or OpenAI's) error shape, forwarding with the gateway's
 * identity token, and rate limits per subject. Every service is stood in for by {@link InferenceStub},
 * which echoes the headers it receives; {@link OidcProviders} are the providers.
 */
@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "gateway"))
@QuarkusTestResource(value = InferenceStub.class, restrictToAnnotatedClass = true)
@QuarkusTestResource(value = OidcProviders.class, restrictToAnnotatedClass = true)
class OidcSignInThroughGatewayTest {

    @TestHTTPResource(value = "/", management = true)
    URL management;

    /** Leaves a claim out of {@link #token}. */
    private static final Object NONE = new Object();
    /** Tokens sent in this class, to check none of them reaches the log. */
    private static final List<String> SENT = new ArrayList<>();

    private static String provider(String name) {
        String corp = ConfigProvider.getConfig().getValue("quarkus.oidc.corp.auth-server-url", String.class);
        return corp.substring(0, corp.length() - "corp".length()) + name;
    }

    /** A token that {@code name}'s token endpoint signs: issued by it unless claims say otherwise, for the gateway, valid 5 minutes. */
    private static String token(String name, Map<String, Object> claims) {
        long now = Instant.now().getEpochSecond();
        Map<String, Object> all = new HashMap<>(Map.of("iss", provider(name), "aud", OidcProviders.AUDIENCE,
                "iat", now, "exp", now + 300, "jti", UUID.randomUUID().toString()));
        all.putAll(claims);
        all.values().removeIf(v -> v == NONE);
        String token = given().baseUri(provider(name)).contentType(ContentType.JSON).body(all).post("/token")
                .then().statusCode(200).extract().path("access_token");
        SENT.add(token);
        return token;
    }

    private static String corp(String sub, String team, String scope) {
        return token("corp", Map.of("sub", sub, "team", team, "scope", scope));
    }

    private static String subject() {
        return "user-" + UUID.randomUUID();
    }

    private static void assertErrorObject(Response response, int status, String code, String messagePart) {
        response.then().statusCode(status)
                .contentType(ContentType.JSON)
                .body("error.code", equalTo(code))
                .body("error.status", equalTo(status))
                .body("error.message", containsString(messagePart));
    }

    private JsonWebToken forwardedIdentity(Response echoed) throws Exception {
        String jwks = given().get(new URI(management.getProtocol(), null, management.getHost(), management.getPort(),
                "/.well-known/jwks.json", null, null)).then().statusCode(200).extract().asString();
        JWTAuthContextInfo verification = new JWTAuthContextInfo();
        verification.setPublicKeyContent(jwks);
        verification.setIssuedBy("mlinfra-gateway");
        verification.setExpectedAudience(Set.of("mlinfra-services"));
        return new DefaultJWTParser(verification).parse(echoed.then().extract().path("headers.x-mlinfra-identity"));
    }

    @Test
    void aValidTokenReachesTheServiceAsItsTeamWithTheGatewaysIdentityToken() throws Exception {
        String sub = subject();
        Response echoed = given().header("Authorization", "Bearer " + corp(sub, "vision", "read write")).get("/v1/datasets");
        echoed.then().statusCode(200)
                .body("path", equalTo("/v1/datasets"))
                .body("headers", not(hasKey("authorization")));

        JsonWebToken identity = forwardedIdentity(echoed);
        assertEquals("vision", String.valueOf(identity.<Object>getClaim("team")));
        assertEquals("oidc:corp:" + sub, identity.getSubject());
        assertEquals(Set.of("read", "write"), identity.getGroups());
    }

    @Test
    void theSecondProviderMapsItsOwnClaims() throws Exception {
        String sub = subject();
        String token = token("partner", Map.of("sub", sub,
                "groups", List.of("/staff", "mlinfra-robotics", "mlinfra-other"),
                "realm_access", Map.of("roles", List.of("offline_access", "mlinfra:read", "write"))));
        Response echoed = given().header("Authorization", "Bearer " + token).get("/v1/infrastructure/status");
        echoed.then().statusCode(200);

        JsonWebToken identity = forwardedIdentity(echoed);
        assertEquals("robotics", String.valueOf(identity.<Object>getClaim("team")));
        assertEquals("oidc:partner:" + sub, identity.getSubject());
        assertEquals(Set.of("read"), identity.getGroups(), "only the prefixed roles are scopes");
    }

    @Test
    void aProviderUnreachableAtStartIsConnectedAtItsFirstToken() throws Exception {
        assertTrue(Files.readString(OidcProviders.GATEWAY_LOG).contains("Tenant 'partner'"),
                "the gateway started while the partner provider was unreachable, and said so");
        String token = token("partner", Map.of("sub", subject(), "groups", List.of("mlinfra-robotics"),
                "realm_access", Map.of("roles", List.of("mlinfra:read"))));
        given().header("Authorization", "Bearer " + token).get("/v1/datasets").then().statusCode(200);
    }

    @Test
    void anExpiredTokenIsRefusedWith401() {
        long past = Instant.now().getEpochSecond() - 3600;
        String expired = token("corp", Map.of("sub", subject(), "team", "vision", "scope", "read",
                "iat", past - 300, "exp", past));
        assertErrorObject(given().header("Authorization", "Bearer " + expired).get("/v1/datasets"), 401, "unauthorized",
                "expired");
    }

    @Test
    void aTokenForAnotherAudienceIsRefusedWith401() {
        String other = token("corp", Map.of("sub", subject(), "team", "vision", "scope", "read", "aud", "another-api"));
        assertErrorObject(given().header("Authorization", "Bearer " + other).get("/v1/datasets"), 401, "unauthorized",
                "audience");
        String none = token("corp", Map.of("sub", subject(), "team", "vision", "scope", "read", "aud", NONE));
        assertErrorObject(given().header("Authorization", "Bearer " + none).get("/v1/datasets"), 401, "unauthorized",
                "audience");
    }

    @Test
    void aTokenOfAnUnknownIssuerIsRefusedWith401() {
        String unknown = token("elsewhere", Map.of("sub", subject(), "team", "vision", "scope", "read"));
        assertErrorObject(given().header("Authorization", "Bearer " + unknown).get("/v1/datasets"), 401, "unauthorized",
                "unknown issuer");
    }

    @Test
    void aTokenSignedByAnotherKeyInTheNameOfAProviderIsRefusedWith401() {
        String forged = token("forger", Map.of("iss", provider("corp"), "sub", subject(), "team", "vision",
                "scope", "read write admin"));
        assertErrorObject(given().header("Authorization", "Bearer " + forged).get("/v1/datasets"), 401, "unauthorized",
                "does not verify");
    }

    @Test
    void aTokenWithoutTeamIsRefusedWith403SayingWhatIsMissing() {
        String noTeam = token("corp", Map.of("sub", subject(), "scope", "read write"));
        assertErrorObject(given().header("Authorization", "Bearer " + noTeam).get("/v1/datasets"), 403, "forbidden",
                "claim 'team'");
        String noTeamGroup = token("partner", Map.of("sub", subject(), "groups", List.of("/staff"),
                "realm_access", Map.of("roles", List.of("mlinfra:read"))));
        assertErrorObject(given().header("Authorization", "Bearer " + noTeamGroup).get("/v1/datasets"), 403, "forbidden",
                "no value starting with 'mlinfra-'");
    }

    @Test
    void aTokenWithoutTheWriteScopeCannotWrite() {
        String reader = corp(subject(), "vision", "read");
        given().header("Authorization", "Bearer " + reader).get("/v1/datasets").then().statusCode(200);
        assertErrorObject(given().header("Authorization", "Bearer " + reader).contentType(ContentType.JSON).body("{}")
                .post("/v1/datasets/upload"), 403, "forbidden", "lacks the 'write' scope");
        given().header("Authorization", "Bearer " + corp(subject(), "vision", "read write")).contentType(ContentType.JSON)
                .body("{}").post("/v1/datasets/upload").then().statusCode(200).body("method", equalTo("POST"));
    }

    @Test
    void refusalsOnTheOpenAiRoutesTakeOpenAisErrorShape() {
        String unknown = token("elsewhere", Map.of("sub", subject(), "team", "vision", "scope", "read"));
        given().header("Authorization", "Bearer " + unknown).get("/v1/openai/models").then().statusCode(401)
                .body("error.type", equalTo("invalid_request_error"))
                .body("error.code", equalTo("invalid_api_key"))
                .body("error.message", containsString("unknown issuer"))
                .body("error", not(hasKey("status")));
        given().header("Authorization", "Bearer " + corp(subject(), "vision", "read write")).get("/v1/openai/models")
                .then().statusCode(200).body("data[0].id", equalTo("team-model"));
    }

    @Test
    void anApiKeyAsBearerIsStillAnApiKey() throws Exception {
        var key = GatewayTestKeys.create("keys-team", "read");
        Response echoed = given().header("Authorization", "Bearer " + key.secret()).get("/v1/datasets");
        echoed.then().statusCode(200);
        assertEquals(key.id(), forwardedIdentity(echoed).getSubject());
        assertErrorObject(given().header("Authorization", "Bearer mlk_0123456789abcdef_" + "x".repeat(32))
                .get("/v1/datasets"), 401, "unauthorized", "Invalid or revoked API key");
    }

    @Test
    void anAdminTokenUsesTheAdminApi() {
        given().header("Authorization", "Bearer " + corp(subject(), "platform", "read admin")).get("/v1/admin/api-keys")
                .then().statusCode(200).body("api_keys", notNullValue());
        assertErrorObject(given().header("Authorization", "Bearer " + corp(subject(), "platform", "read write"))
                .get("/v1/admin/api-keys"), 403, "forbidden", "lacks the 'admin' scope");
    }

    @Test
    void theRateLimitCountsPerSubjectAcrossItsTokens() {
        int limit = InferenceStub.INFERENCE_LIMIT;
        String sub = subject();
        for (int i = 0; i < limit; i++) {
            // a fresh token each time: the same subject, so the same budget
            given().header("Authorization", "Bearer " + corp(sub, "vision", "read")).get("/v1/models")
                    .then().statusCode(200)
                    .header("X-RateLimit-Limit", String.valueOf(limit))
                    .header("X-RateLimit-Remaining", String.valueOf(limit - 1 - i))
                    .header("RateLimit-Policy", "\"inference\";q=" + limit + ";w=60");
        }
        Response refused = given().header("Authorization", "Bearer " + corp(sub, "vision", "read")).get("/v1/models");
        assertErrorObject(refused, 429, "rate_limit_exceeded", "inference");
        refused.then().header("Retry-After", notNullValue()).header("X-RateLimit-Remaining", "0");

        // another subject of the same team, and the same sub at the other provider, have budgets of their own
        given().header("Authorization", "Bearer " + corp(subject(), "vision", "read")).get("/v1/models")
                .then().statusCode(200).header("X-RateLimit-Remaining", String.valueOf(limit - 1));
        String partner = token("partner", Map.of("sub", sub, "groups", List.of("mlinfra-vision"),
                "realm_access", Map.of("roles", List.of("mlinfra:read"))));
        given().header("Authorization", "Bearer " + partner).get("/v1/models")
                .then().statusCode(200).header("X-RateLimit-Remaining", String.valueOf(limit - 1));
    }

    @Test
    void noTokenReachesTheLog() throws Exception {
        given().header("Authorization", "Bearer " + corp(subject(), "vision", "read")).get("/v1/datasets")
                .then().statusCode(200);
        given().header("Authorization", "Bearer " + token("elsewhere", Map.of("sub", subject()))).get("/v1/datasets")
                .then().statusCode(401);
        String log = Files.readString(OidcProviders.GATEWAY_LOG);
        assertFalse(log.isBlank(), "the gateway logs to " + OidcProviders.GATEWAY_LOG);
        for (String sent : List.copyOf(SENT)) {
            String signature = sent.substring(sent.lastIndexOf('.') + 1);
            assertFalse(log.contains(signature), "a token's signature is in the gateway's log");
            String payload = sent.substring(sent.indexOf('.') + 1, sent.lastIndexOf('.'));
            assertFalse(log.contains(payload), "a token's claims are in the gateway's log");
        }
    }
}
