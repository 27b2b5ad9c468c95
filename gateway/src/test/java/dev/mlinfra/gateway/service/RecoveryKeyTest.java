package dev.mlinfra.gateway.service;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import dev.mlinfra.gateway.GatewayTestBackends;
import dev.mlinfra.testsupport.DevstackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.vertx.VertxContextSupport;
import jakarta.inject.Inject;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * An installation whose administrators lost every admin key: a recovery key in the configuration is
 * added at startup although keys exist (the bootstrap key does), and a revoked one is never restored.
 */
@QuarkusTest
@TestProfile(RecoveryKeyTest.Recovery.class)
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "gateway"))
@QuarkusTestResource(value = GatewayTestBackends.class, restrictToAnnotatedClass = true)
class RecoveryKeyTest {

    /** New in every run, so that a database kept from an earlier run holds no key with its id. */
    static final String KEY_ID = HexFormat.of().formatHex(new SecureRandom().generateSeed(8));
    static final String RECOVERY_KEY = "mlk_" + KEY_ID + "_" + "Recovery-admin-key-for-tests_001";

    public static class Recovery implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("mlinfra.gateway.auth.recovery-api-key", RECOVERY_KEY);
        }
    }

    @Inject
    ApiKeyService keys;

    @Test
    void theRecoveryKeyIsAnAdminKeyAddedAtStartupAndARevokedOneIsNotRestored() throws Throwable {
        given().header("x-api-key", RECOVERY_KEY).get("/v1/admin/api-keys/" + KEY_ID).then().statusCode(200)
                .body("team", equalTo("default")).body("name", equalTo("recovery admin key"))
                .body("status", equalTo("active")).body("scopes", hasItem("admin"));
        // the bootstrap key existed before it: it was added to an installation that had keys
        given().header("x-api-key", RECOVERY_KEY).get("/v1/admin/api-keys/00112233445566ff").then().statusCode(200)
                .body("status", equalTo("active"));
        // A new admin key is made with it, and it is revoked; a later start does not bring it back.
        given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).delete("/v1/admin/api-keys/" + KEY_ID)
                .then().statusCode(200);
        VertxContextSupport.subscribeAndAwait(() -> keys.recover(RECOVERY_KEY));
        given().header("x-api-key", GatewayTestBackends.BOOTSTRAP_KEY).get("/v1/admin/api-keys/" + KEY_ID).then()
                .statusCode(200).body("status", equalTo("revoked"));
        // Another secret under the same id takes nothing over.
        String impostor = "mlk_" + KEY_ID + "_" + "Another-secret-under-this-id_002";
        VertxContextSupport.subscribeAndAwait(() -> keys.recover(impostor));
        given().header("x-api-key", impostor).get("/v1/admin/api-keys").then().statusCode(401);
        given().header("x-api-key", RECOVERY_KEY).get("/v1/admin/api-keys").then().statusCode(401);
    }
}
