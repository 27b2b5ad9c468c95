package dev.mlinfra.infra.rest;

import static dev.mlinfra.infra.LedgerHarness.as;
import static dev.mlinfra.infra.LedgerHarness.awaitStatus;
import static dev.mlinfra.infra.LedgerHarness.awaitWaiting;
import static dev.mlinfra.infra.LedgerHarness.newId;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.commons.events.GpuCapacity;
import dev.mlinfra.commons.json.JsonSetup;
import dev.mlinfra.infra.LedgerHarness;
import dev.mlinfra.testsupport.DevstackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The internal API of the ledger: team-scoped requests, pools, and the contract's error object. */
@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "infra"))
class GpuLedgerApiTest {

    private final LedgerHarness ledger = new LedgerHarness();

    @BeforeEach
    void poolIsIdle() {
        LedgerHarness.assertIdle("local");
    }

    @AfterEach
    void releaseEverything() {
        ledger.releaseAll();
    }

    @Test
    void anotherTeamsRequestIsNotFound() {
        String id = newId();
        ledger.request(id, "team-a", "scout");
        awaitStatus("team-a", id, "granted");
        as("team-b").get("/internal/v1/gpu/requests/" + id).then().statusCode(404).contentType(ContentType.JSON)
                .body("error.code", equalTo("not_found")).body("error.status", equalTo(404))
                .body("error.message", containsString(id))
                .body("team", equalTo(null)).body("status", equalTo(null));
        as("team-a").get("/internal/v1/gpu/requests/" + id).then().statusCode(200)
                .body("request_id", equalTo(id)).body("team", equalTo("team-a"));
    }

    @Test
    void aRequestNobodyMadeIsNotFound() {
        as("team-a").get("/internal/v1/gpu/requests/" + newId()).then().statusCode(404)
                .body("error.code", equalTo("not_found"));
    }

    @Test
    void theInternalApiWantsTheGatewaysIdentity() {
        given().get("/internal/v1/gpu/pools").then().statusCode(401).body("error.code", equalTo("unauthorized"));
        given().get("/internal/v1/gpu/requests/" + newId()).then().statusCode(401);
    }

    @Test
    void poolsShowTheOneExecutionSlotOfThisMachineAndWhatItHolds() {
        as("team-a").get("/internal/v1/gpu/pools").then().statusCode(200)
                .body("pools.find { it.name == 'local' }.kind", equalTo("slot"))
                .body("pools.find { it.name == 'local' }.size", equalTo(1))
                .body("pools.find { it.name == 'local' }.allocated", equalTo(0))
                .body("pools.find { it.name == 'local' }.waiting", equalTo(0));
        String holder = newId();
        String waiting = newId();
        ledger.request(holder, "team-a", "scout");
        awaitStatus("team-a", holder, "granted");
        ledger.request(waiting, "team-b", "maverick");
        awaitWaiting("team-b", waiting, 1);
        as("team-c").get("/internal/v1/gpu/pools").then().statusCode(200)
                .body("pools.find { it.name == 'local' }.allocated", equalTo(1))
                .body("pools.find { it.name == 'local' }.waiting", equalTo(1))
                .body("pools.name", not(hasItem("shared")));
    }

    @Test
    void twoRequestersWithTheSameIdAreTwoRequestsTheRequesterParameterTellsApart() {
        String id = newId();
        ledger.request(id, "team-a", "scout");
        awaitStatus("team-a", id, "granted");
        ObjectMapper json = JsonSetup.apply(new ObjectMapper());
        EventEnvelope fromInference = EventEnvelope.of(GpuCapacity.REQUESTED, "inference-service", "team-a", id,
                json.valueToTree(new GpuCapacity.Requested(id, "inference-service", "team-a", "maverick")));
        LedgerHarness.publish(fromInference);
        try {
            LedgerHarness.awaitState("team-a", id, s -> "inference-service".equals(s.getString("requester")));
            as("team-a").queryParam("requester", "inference-service").get("/internal/v1/gpu/requests/" + id).then()
                    .statusCode(200).body("status", equalTo("waiting")).body("queue_position", equalTo(1))
                    .body("model_type", equalTo("maverick"));
            as("team-a").queryParam("requester", "training-service").get("/internal/v1/gpu/requests/" + id).then()
                    .statusCode(200).body("status", equalTo("granted")).body("model_type", equalTo("scout"));
        } finally {
            LedgerHarness.publish(EventEnvelope.of(GpuCapacity.RELEASED, "inference-service", "team-a", id,
                    json.valueToTree(new GpuCapacity.Released(id, "inference-service", "team-a", "test over"))));
        }
        LedgerHarness.awaitState("team-a", id, s -> "inference-service".equals(s.getString("requester"))
                && "released".equals(s.getString("status")));
    }
}
