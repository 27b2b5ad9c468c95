package dev.mlinfra.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.commons.error.ErrorCode;
import dev.mlinfra.commons.identity.Identity;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** How the claims of a verified token become a caller, under each kind of claim mapping. */
class OidcSignInTest {

    private static final OidcSignIn.Claims DEFAULTS = new OidcSignIn.Claims("team", Optional.empty(), "scope", Optional.empty());
    private static final OidcSignIn.Claims GROUPS = new OidcSignIn.Claims("groups", Optional.of("/mlinfra-"),
            "realm_access/roles", Optional.of("mlinfra:"));

    private static Identity signedIn(Map<String, Object> claims, OidcSignIn.Claims mapping) {
        OidcSignIn.Outcome outcome = OidcSignIn.identityOf("corp", new JsonObject(claims), mapping);
        return assertInstanceOf(OidcSignIn.Outcome.SignedIn.class, outcome).identity();
    }

    private static OidcSignIn.Outcome.Refused refused(Map<String, Object> claims, OidcSignIn.Claims mapping) {
        return assertInstanceOf(OidcSignIn.Outcome.Refused.class, OidcSignIn.identityOf("corp", new JsonObject(claims), mapping));
    }

    @Test
    void aTeamClaimAndAnOAuthScopeStringNameTheCaller() {
        Identity identity = signedIn(Map.of("sub", "alice", "team", "vision", "scope", " openid read  write profile"), DEFAULTS);
        assertEquals(new Identity("oidc:corp:alice", "vision", Set.of("read", "write")), identity);
        assertTrue(OidcSignIn.signedIn(identity));
    }

    @Test
    void theFirstPrefixedGroupIsTheTeamAndPrefixedRolesAreTheScopes() {
        Identity identity = signedIn(Map.of("sub", "bob",
                "groups", List.of("/staff", "/mlinfra-robotics", "/mlinfra-vision"),
                "realm_access", Map.of("roles", List.of("read", "mlinfra:admin", "mlinfra:launch", "mlinfra:read"))), GROUPS);
        assertEquals(new Identity("oidc:corp:bob", "robotics", Set.of("admin", "read")), identity);
    }

    @Test
    void anArrayOfScopesAndAStringTeamInAnArrayClaimWork() {
        Identity identity = signedIn(Map.of("sub", "c", "team", List.of("nlp"), "scope", List.of("read", "admin")), DEFAULTS);
        assertEquals(Set.of("read", "admin"), identity.scopes());
        assertEquals("nlp", identity.team());
        assertEquals(Set.of(), signedIn(Map.of("sub", "c", "team", "nlp"), DEFAULTS).scopes(), "no scope claim: no scopes");
    }

    @Test
    void aClaimNamedLikeAUrlIsOneClaimNotAPath() {
        var mapping = new OidcSignIn.Claims("https://mlinfra.example.com/team", Optional.empty(),
                "https://mlinfra.example.com/scopes", Optional.empty());
        Identity identity = signedIn(Map.of("sub", "f", "https://mlinfra.example.com/team", "vision",
                "https://mlinfra.example.com/scopes", List.of("write")), mapping);
        assertEquals("vision", identity.team());
        assertEquals(Set.of("write"), identity.scopes());
    }

    @Test
    void noTeamIsA403ThatSaysWhichClaimToFix() {
        var missing = refused(Map.of("sub", "d", "scope", "read"), DEFAULTS);
        assertEquals(ErrorCode.FORBIDDEN, missing.code());
        assertTrue(missing.reason().contains("claim 'team' is missing"), missing.reason());
        var unprefixed = refused(Map.of("sub", "d", "groups", List.of("/staff")), GROUPS);
        assertEquals(ErrorCode.FORBIDDEN, unprefixed.code());
        assertTrue(unprefixed.reason().contains("no value starting with '/mlinfra-'"), unprefixed.reason());
        assertEquals(ErrorCode.FORBIDDEN, refused(Map.of("sub", "d", "team", Map.of("name", "x")), DEFAULTS).code());
    }

    @Test
    void aTeamThatIsNoValidTeamNameIsRefused() {
        var refusal = refused(Map.of("sub", "e", "team", "Vision Team"), DEFAULTS);
        assertEquals(ErrorCode.FORBIDDEN, refusal.code());
        assertTrue(refusal.reason().contains("'Vision Team'") && refusal.reason().contains("no valid team name"), refusal.reason());
    }

    @Test
    void aTokenWithoutSubjectIsRefusedWith401() {
        assertEquals(ErrorCode.UNAUTHORIZED, refused(Map.of("team", "vision", "scope", "read"), DEFAULTS).code());
        assertEquals(ErrorCode.UNAUTHORIZED, refused(Map.of("sub", " ", "team", "vision"), DEFAULTS).code());
    }
}
