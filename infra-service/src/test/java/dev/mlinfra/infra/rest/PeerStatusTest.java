package dev.mlinfra.infra.rest;

import static dev.mlinfra.infra.LedgerHarness.as;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.hasKey;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.commons.http.Redaction;
import dev.mlinfra.devstack.process.FreePorts;
import dev.mlinfra.testsupport.DevstackResource;
import dev.mlinfra.testsupport.TestIdentities;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.ValidatableResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Peers that misbehave: a service that accepts connections and never answers (hung), one that is not
 * there at all. Their entries say so, the platform is degraded (not unhealthy: the core is up), and the
 * status answers within the probe timeout.
 */
@QuarkusTest
@TestProfile(PeerStatusTest.BrokenPeers.class)
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "infra"))
class PeerStatusTest {

    private static final long ANSWER_WITHIN_MS = 1000 + 3000;

    /** Accepts every connection and keeps it open without a byte in reply. */
    static final class HungServer {
        static final ServerSocket SOCKET;
        private static final List<Socket> HELD = new ArrayList<>();

        static {
            try {
                SOCKET = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Thread t = new Thread(() -> {
                while (!SOCKET.isClosed()) {
                    try {
                        Socket s = SOCKET.accept();
                        synchronized (HELD) {
                            HELD.add(s);
                        }
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "hung-server");
            t.setDaemon(true);
            t.start();
        }
    }

    public static class BrokenPeers implements QuarkusTestProfile {
        /** Where no registry-service runs. */
        static final int REGISTRY_PORT = FreePorts.pick();

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "mlinfra.infra.services.inference_service.url", "http://127.0.0.1:" + HungServer.SOCKET.getLocalPort(),
                    "mlinfra.infra.services.registry_service.url", "http://127.0.0.1:" + REGISTRY_PORT);
        }
    }

    @Test
    void aHungServiceAndAMissingOneDegradeThePlatformAndTheStatusStillAnswers() {
        long started = System.nanoTime();
        ValidatableResponse r = as("team-a").get("/v1/infrastructure/status").then().statusCode(200);
        long took = (System.nanoTime() - started) / 1_000_000;
        assertTrue(took < ANSWER_WITHIN_MS, "the status took " + took + " ms");
        r.body("status", equalTo("degraded"))
                .body("components.postgresql.status", equalTo("healthy"))
                .body("components.inference_service.status", equalTo("unhealthy"))
                .body("components.inference_service.reason", containsString("did not answer within 1000 ms"))
                .body("components.serving_backend.status", equalTo("unhealthy"))
                .body("components.serving_backend.reason", containsString("did not answer"))
                .body("components.registry_service.status", equalTo("unhealthy"))
                .body("components.registry_service.reason", containsString("refused"))
                // whether MLflow is mirrored to is registry-service's to say; unknown while it is away
                .body("components", not(hasKey("mlflow")));
        // where the service runs is an operator's business: a team sees that it refused, not at which address
        String port = Integer.toString(BrokenPeers.REGISTRY_PORT);
        r.body("components.registry_service.reason", allOf(containsString(Redaction.ADDRESS), not(containsString(port))));
        io.restassured.RestAssured.given().header("x-mlinfra-identity", TestIdentities.token("operators", "read", "admin"))
                .get("/v1/infrastructure/status").then().statusCode(200)
                .body("components.registry_service.reason", containsString("127.0.0.1:" + port));
    }

    @Test
    void componentsOfTheStatusAreTheKeysOfTheMetrics() {
        as("team-a").get("/v1/infrastructure/metrics?component=serving_backend&metric=cpu").then().statusCode(200)
                .body("component", equalTo("serving_backend"));
        as("team-a").get("/v1/infrastructure/metrics?component=training_backend").then().statusCode(400)
                .body("error.message", containsString("serving_backend"));
    }
}
