package dev.mlinfra.gateway.auth;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.gateway.GatewayTestBackends;
import dev.mlinfra.testsupport.DevstackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.jwt.auth.principal.DefaultJWTParser;
import io.smallrye.jwt.auth.principal.JWTAuthContextInfo;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.util.Set;
import org.eclipse.microprofile.jwt.JsonWebToken;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "gateway"))
// the same resources as GatewayTest: one application, and one bootstrap admin key in the gateway's database
@QuarkusTestResource(value = GatewayTestBackends.class, restrictToAnnotatedClass = true)
class JwksEndpointTest {

    /** Any URL of the management interface: its port, the key set's path outside the management root (/q). */
    @TestHTTPResource(value = "/", management = true)
    URL management;

    @Inject
    TokenMint mint;

    private URI managementJwks() throws Exception {
        return new URI(management.getProtocol(), null, management.getHost(), management.getPort(), "/.well-known/jwks.json", null, null);
    }

    @Test
    void servicesFindTheKeySetOnTheManagementPortAndUsersDoNot() throws Exception {
        given().get(managementJwks()).then().statusCode(200)
                .contentType("application/jwk-set+json")
                .body("keys.kid", hasItem("devstack"))
                .body("keys.find { it.kid == 'devstack' }.kty", equalTo("RSA"))
                .body("keys.find { it.kid == 'devstack' }.d", equalTo(null));

        given().get("/.well-known/jwks.json").then().statusCode(404);
    }

    @Test
    void forwardedTokensVerifyAgainstThePublishedKeySet() throws Exception {
        String jwks = given().get(managementJwks()).then().statusCode(200).extract().asString();
        JWTAuthContextInfo verification = new JWTAuthContextInfo();
        verification.setPublicKeyContent(jwks);
        verification.setIssuedBy("mlinfra-gateway");
        verification.setExpectedAudience(Set.of("mlinfra-services"));

        String token = mint.tokenFor(new Identity("key-7", "team-b", Set.of("read")));
        JsonWebToken verified = new DefaultJWTParser(verification).parse(token);

        assertEquals("key-7", verified.getSubject());
        assertEquals(Set.of("read"), verified.getGroups());
        assertEquals("team-b", String.valueOf(verified.<Object>getClaim("team")));
        assertEquals(token, mint.tokenFor(new Identity("key-7", "team-b", Set.of("read"))), "reused while fresh");
    }
}
