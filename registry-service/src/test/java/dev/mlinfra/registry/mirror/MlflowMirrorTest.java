package dev.mlinfra.registry.mirror;

import static dev.mlinfra.registry.mirror.ModelEventsHarness.await;
import static io.restassured.RestAssured.given;
import static dev.mlinfra.registry.mirror.ModelEventsHarness.failures;
import static dev.mlinfra.registry.mirror.ModelEventsHarness.lagSeconds;
import static dev.mlinfra.registry.mirror.ModelEventsHarness.mirrored;
import static dev.mlinfra.registry.mirror.ModelEventsHarness.mlflowName;
import static dev.mlinfra.registry.mirror.ModelEventsHarness.newModelId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.events.EventEnvelope;
import dev.mlinfra.commons.events.ModelEvents;
import dev.mlinfra.testsupport.DevstackResource;
import dev.mlinfra.testsupport.Management;
import dev.mlinfra.testsupport.TestIdentities;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The mirror as an MLflow user sees it: model events published on {@code mlinfra.models} (as the
 * registry's outbox publishes them) show up in an MLflow Model Registry, here a test server that
 * implements MLflow's REST API and keeps state, with stages mirrored both as aliases and as
 * MLflow's stages ({@code transition-stages=true}).
 */
@QuarkusTest
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "registry"))
@QuarkusTestResource(value = MlflowTestResource.class, restrictToAnnotatedClass = true)
class MlflowMirrorTest {

    private static final Logger LOG = Logger.getLogger(MlflowMirrorTest.class);

    @MlflowTestResource.Server
    MlflowTestServer mlflow;

    @Inject
    ObjectMapper json;

    private ModelEventsHarness events;

    @BeforeEach
    void harness() {
        events = new ModelEventsHarness(json);
        // An event is counted as mirrored after MLflow shows it, and before the lag reads 0 again: a
        // test's baselines of the counts are read once the previous test's last event is counted.
        await("the mirror done with earlier events", () -> lagSeconds() == 0, ModelEventsHarness::lagSeconds);
    }

    @AfterEach
    void mlflowIsBack() throws IOException {
        mlflow.start();
    }

    @Test
    void registeringTwoVersionsCreatesTheModelOnceAndMlflowNumbersThemOneAndTwo() {
        String model = newModelId();
        String name = mlflowName(model);
        double registeredBefore = mirrored(ModelEvents.REGISTERED);

        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("eval_loss", 0.42);
        metrics.put("accuracy", 0.85);
        metrics.put("f1", 0.87);
        metrics.put("base", Map.of("accuracy", 0.61));
        events.publish(events.registered(model, "v1.0.0", "none", metrics, Map.of("reviewer_score", 4)));
        MlflowTestServer.Version first = awaitVersion(name, "1");

        MlflowTestServer.Model registered = mlflow.model(name);
        assertEquals("Scout fine-tuned on GitOps issues", registered.description);
        assertEquals(Map.of("mlinfra.team", ModelEventsHarness.TEAM, "mlinfra.model_id", model, "mlinfra.model_type", "scout"),
                registered.tags);
        assertEquals(ModelEventsHarness.artifact(model, "v1.0.0"), first.source);
        assertEquals("None", first.stage);
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("mlinfra.version", "v1.0.0");
        expected.put("mlinfra.team", ModelEventsHarness.TEAM);
        expected.put("mlinfra.model_type", "scout");
        expected.put("mlinfra.training_job", ModelEventsHarness.job(model, "v1.0.0"));
        expected.put("mlinfra.metric.accuracy", "0.85");
        expected.put("mlinfra.metric.base", "{\"accuracy\":0.61}");
        expected.put("mlinfra.metric.eval_loss", "0.42");
        expected.put("mlinfra.metric.f1", "0.87");
        expected.put("mlinfra.reported_metric.reviewer_score", "4");
        assertEquals(expected, first.tags);

        events.publish(events.registered(model, "v1.1.0", "none", Map.of("eval_loss", 0.31), Map.of()));
        MlflowTestServer.Version second = awaitVersion(name, "2");
        assertEquals("v1.1.0", second.tags.get("mlinfra.version"));
        assertEquals(ModelEventsHarness.job(model, "v1.1.0"), second.tags.get("mlinfra.training_job"));
        assertEquals("0.31", second.tags.get("mlinfra.metric.eval_loss"));
        assertEquals(ModelEventsHarness.artifact(model, "v1.1.0"), second.source);

        assertEquals(List.of("create-model " + name, "create-version " + name + " 1 v1.0.0",
                "create-version " + name + " 2 v1.1.0"), mlflow.changesOf(name));
        assertEquals(1, mlflow.callsTo("registered-models/create", name), "the model is created the first time only");
        assertEquals(Map.of(), mlflow.aliases(name), "versions in stage none have no alias");
        assertMirrored(ModelEvents.REGISTERED, registeredBefore, 2);
    }

    @Test
    void promotingTheNextVersionMovesTheProductionAliasAndTheArchivedOneLosesIt() {
        String model = newModelId();
        String name = mlflowName(model);
        twoVersionsTheFirstInStaging(model, name);
        assertEquals("Staging", mlflow.versions(name).get("1").stage);

        events.publish(events.stageChanged(model, "v1.0.0", "staging", "production"));
        awaitAliases(name, Map.of("production", "1"));
        assertEquals("Production", mlflow.versions(name).get("1").stage);

        events.publish(events.stageChanged(model, "v1.1.0", "none", "staging"));
        awaitAliases(name, Map.of("production", "1", "staging", "2"));

        // The registry announces the promotion and the archiving of the version it replaces as two events.
        events.publish(events.stageChanged(model, "v1.1.0", "staging", "production"));
        awaitAliases(name, Map.of("production", "2"));
        assertEquals("Production", mlflow.versions(name).get("1").stage,
                "MLflow archives nothing by itself: the registry's own event does");

        events.publish(events.stageChanged(model, "v1.0.0", "production", "archived"));
        await("version 1 archived", () -> "Archived".equals(mlflow.versions(name).get("1").stage), () -> mlflow.changesOf(name));
        assertEquals(Map.of("production", "2"), mlflow.aliases(name), "the alias stays with the version that holds it");
        assertEquals("Production", mlflow.versions(name).get("2").stage);
        assertEquals(List.of(
                "create-model " + name,
                "create-version " + name + " 1 v1.0.0",
                "create-version " + name + " 2 v1.1.0",
                "transition " + name + " 1=Staging", "set-alias " + name + " staging=1",
                "transition " + name + " 1=Production", "set-alias " + name + " production=1", "delete-alias " + name + " staging",
                "transition " + name + " 2=Staging", "set-alias " + name + " staging=2",
                "transition " + name + " 2=Production", "set-alias " + name + " production=2", "delete-alias " + name + " staging",
                "transition " + name + " 1=Archived"), mlflow.changesOf(name));
    }

    @Test
    void aVersionLeavingAStageThatAnotherStillHoldsHandsItTheAlias() {
        String model = newModelId();
        String name = mlflowName(model);
        twoVersionsTheFirstInStaging(model, name);
        events.publish(events.stageChanged(model, "v1.1.0", "none", "staging"));
        awaitAliases(name, Map.of("staging", "2"));

        // Both are in staging; the one the alias points at leaves it: the alias goes back to the other.
        events.publish(events.stageChanged(model, "v1.1.0", "staging", "production"));
        awaitAliases(name, Map.of("staging", "1", "production", "2"));
        events.publish(events.stageChanged(model, "v1.0.0", "staging", "archived"));
        awaitAliases(name, Map.of("production", "2"));
    }

    @Test
    void deletingAModelDeletesItInMlflowAndARegistrationAfterwardsStartsAfresh() {
        String model = newModelId();
        String name = mlflowName(model);
        events.publish(events.registered(model, "v1.0.0", "staging", Map.of("f1", 0.7), Map.of()));
        awaitAliases(name, Map.of("staging", "1"));
        assertEquals("Staging", mlflow.versions(name).get("1").stage, "registered straight into staging");
        double deletedBefore = mirrored(ModelEvents.DELETED);

        events.publish(events.deleted(model, List.of("v1.0.0")));
        await("the model deleted in MLflow", () -> mlflow.model(name) == null, () -> mlflow.changesOf(name));
        assertMirrored(ModelEvents.DELETED, deletedBefore, 1);

        events.publish(events.registered(model, "v1.0.0"));
        MlflowTestServer.Version again = awaitVersion(name, "1");
        assertEquals("v1.0.0", again.tags.get("mlinfra.version"));
        assertEquals(1, mlflow.versions(name).size());
        assertEquals(Map.of(), mlflow.aliases(name));
    }

    @Test
    void aModelDeletedInMlflowByHandIsMirroredAnewByItsNextEvents() {
        String model = newModelId();
        String name = mlflowName(model);
        events.publish(events.registered(model, "v1.0.0", "staging", Map.of("f1", 0.7), Map.of()));
        awaitAliases(name, Map.of("staging", "1"));
        mlflow.deleteByHand(name);

        events.publish(events.stageChanged(model, "v1.0.0", "staging", "production"));
        awaitAliases(name, Map.of("production", "1"));
        assertEquals("Production", mlflow.versions(name).get("1").stage);
        assertEquals("v1.0.0", mlflow.versions(name).get("1").tags.get("mlinfra.version"));

        events.publish(events.registered(model, "v1.1.0"));
        MlflowTestServer.Version second = awaitVersion(name, "2");
        assertEquals("v1.1.0", second.tags.get("mlinfra.version"));
        assertEquals(Map.of("production", "1"), mlflow.aliases(name));
    }

    @Test
    void aRedeliveredRegistrationCreatesNoSecondVersion() {
        String model = newModelId();
        String name = mlflowName(model);
        double registeredBefore = mirrored(ModelEvents.REGISTERED);
        double changedBefore = mirrored(ModelEvents.STAGE_CHANGED);
        EventEnvelope registration = events.registered(model, "v1.0.0");
        events.publish(registration);
        awaitVersion(name, "1");

        // Kafka delivers at least once: the same event again, then one behind it to know it was read.
        events.publish(registration, events.stageChanged(model, "v1.0.0", "none", "staging"));
        awaitAliases(name, Map.of("staging", "1"));

        assertEquals(List.of("1"), List.copyOf(mlflow.versions(name).keySet()));
        assertEquals(1, mlflow.callsTo("model-versions/create", name));
        // the stage change is counted after the repeat in front of it was read
        assertMirrored(ModelEvents.STAGE_CHANGED, changedBefore, 1);
        assertMirrored(ModelEvents.REGISTERED, registeredBefore, 1);
    }

    @Test
    void aVersionWhoseCreationAnswerWasLostIsFoundAgainNotCreatedTwice() {
        String model = newModelId();
        String name = mlflowName(model);
        double retriedBefore = failures("retried");
        mlflow.loseNextAnswerTo("model-versions/create");

        events.publish(events.registered(model, "v1.0.0", "production", Map.of("f1", 0.9), Map.of()));
        awaitAliases(name, Map.of("production", "1"));

        assertEquals(List.of("1"), List.copyOf(mlflow.versions(name).keySet()));
        assertEquals("v1.0.0", mlflow.versions(name).get("1").tags.get("mlinfra.version"));
        assertEquals(1, mlflow.callsTo("model-versions/create", name), "the retry looked the version up instead");
        assertTrue(failures("retried") > retriedBefore, "the lost answer counts as a failed attempt");
    }

    @Test
    void anEventMlflowRefusesForGoodIsPassedOverAndTheNextOnesAreMirrored() {
        String model = newModelId();
        String name = mlflowName(model);
        double rejectedBefore = failures("rejected");
        double registeredBefore = mirrored(ModelEvents.REGISTERED);
        mlflow.refuseNextCallTo("model-versions/create");

        events.publish(events.registered(model, "v1.0.0"), events.registered(model, "v1.1.0"));
        MlflowTestServer.Version first = awaitVersion(name, "1");

        assertEquals("v1.1.0", first.tags.get("mlinfra.version"), "v1.0.0 was refused, v1.1.0 came through");
        assertEquals(1, mlflow.versions(name).size());
        assertEquals(1, failures("rejected") - rejectedBefore);
        assertMirrored(ModelEvents.REGISTERED, registeredBefore, 1);
    }

    @Test
    void eventsPublishedWhileMlflowIsAwayAreMirroredInOrderOnceItIsBack() throws IOException {
        String model = newModelId();
        String name = mlflowName(model);
        double retriedBefore = failures("retried");
        mlflow.stop();

        events.publish(
                events.registered(model, "v1.0.0"),
                events.stageChanged(model, "v1.0.0", "none", "staging"),
                events.stageChanged(model, "v1.0.0", "staging", "production"),
                events.registered(model, "v1.1.0"),
                events.stageChanged(model, "v1.1.0", "none", "staging"),
                events.stageChanged(model, "v1.1.0", "staging", "production"),
                events.stageChanged(model, "v1.0.0", "production", "archived"));
        await("failed attempts while MLflow is away", () -> failures("retried") > retriedBefore, () -> failures("retried"));
        await("the mirror's lag to grow", () -> lagSeconds() >= 1.0, ModelEventsHarness::lagSeconds);
        // What the platform's status reads: the mirror is on, behind, and why.
        JsonPath status = mirrorStatus();
        assertEquals(Boolean.TRUE, status.get("enabled"));
        assertEquals(mlflow.url(), status.getString("url"));
        assertTrue(status.getDouble("lag_seconds") >= 1.0, status.prettify());
        assertTrue(status.getLong("failures.retried") > 0, status.prettify());
        assertEquals("retried", status.getString("last_failure.kind"));
        assertTrue(status.getString("last_failure.reason") != null && !status.getString("last_failure.reason").isBlank(),
                status.prettify());

        mlflow.start();
        await("the last event mirrored", () -> mlflow.versions(name).size() == 2
                && "Archived".equals(mlflow.versions(name).get("1").stage), () -> mlflow.changesOf(name));
        assertEquals(Map.of("production", "2"), mlflow.aliases(name));
        assertEquals(List.of(
                "create-model " + name,
                "create-version " + name + " 1 v1.0.0",
                "transition " + name + " 1=Staging", "set-alias " + name + " staging=1",
                "transition " + name + " 1=Production", "set-alias " + name + " production=1", "delete-alias " + name + " staging",
                "create-version " + name + " 2 v1.1.0",
                "transition " + name + " 2=Staging", "set-alias " + name + " staging=2",
                "transition " + name + " 2=Production", "set-alias " + name + " production=2", "delete-alias " + name + " staging",
                "transition " + name + " 1=Archived"), mlflow.changesOf(name), "applied in the order published");
        await("the mirror to catch up", () -> lagSeconds() == 0, ModelEventsHarness::lagSeconds);
        assertEquals(0.0, mirrorStatus().getDouble("lag_seconds"));
    }

    @io.quarkus.test.common.http.TestHTTPResource("/")
    java.net.URL registryUrl;

    /**
     * The platform's status (infra-service as a process of its own, probing this registry-service): MLflow
     * as its own component, its version as MLflow says it, the mirror's lag and failures beside it; while
     * MLflow is away the entry says so and the platform is degraded.
     */
    @Test
    void thePlatformsStatusShowsMlflowWithTheMirrorsLagAndFailures() throws IOException {
        dev.mlinfra.testsupport.ServiceProcess infra = dev.mlinfra.testsupport.ServiceProcess.start("infra-service",
                Map.of("mlinfra.infra.services.registry_service.url", registryUrl.toString(),
                        "mlinfra.infra.services.registry_service.management-url", Management.baseUrl()));
        try {
            events.publish(events.registered(newModelId(), "v1.0.0"));
            JsonPath up = platformStatus(infra);
            assertEquals("healthy", up.getString("status"), up.prettify());
            assertEquals("healthy", up.getString("components.mlflow.status"), up.prettify());
            assertEquals(MlflowTestServer.VERSION, up.getString("components.mlflow.version"));
            assertEquals(mlflow.url(), up.getString("components.mlflow.endpoint"));
            assertNotNull(up.get("components.mlflow.mirror_lag_seconds"), up.prettify());

            double retriedBefore = failures("retried");
            mlflow.stop();
            events.publish(events.registered(newModelId(), "v1.0.0"));
            await("failed attempts while MLflow is away", () -> failures("retried") > retriedBefore, () -> failures("retried"));
            await("the mirror's lag to grow", () -> lagSeconds() >= 1.0, ModelEventsHarness::lagSeconds);
            JsonPath away = platformStatus(infra);
            assertEquals("degraded", away.getString("status"), away.prettify());
            assertEquals("unhealthy", away.getString("components.mlflow.status"), away.prettify());
            assertTrue(away.getDouble("components.mlflow.mirror_lag_seconds") >= 1.0, away.prettify());
            assertTrue(away.getLong("components.mlflow.failures.retried") > 0, away.prettify());
            assertEquals("retried", away.getString("components.mlflow.last_failure.kind"));
            assertEquals("healthy", away.getString("components.registry_service.status"));
        } finally {
            mlflow.start();
            infra.stop();
        }
    }

    private static JsonPath platformStatus(dev.mlinfra.testsupport.ServiceProcess infra) {
        // an operator's view: the mirror's last failure names models, which only operators see
        return given().baseUri(infra.url()).header("x-mlinfra-identity", TestIdentities.token("platform", "read", "admin"))
                .get("/v1/infrastructure/status").then().statusCode(200).extract().jsonPath();
    }

    private static JsonPath mirrorStatus() {
        return given().header("x-mlinfra-identity", TestIdentities.token("platform", "read"))
                .get("/internal/v1/registry/mlflow-mirror").then().statusCode(200).extract().jsonPath();
    }

    @Test
    void followsAStormOfStageChangesToTheEnd() {
        int modelCount = 4;
        int changesPerModel = 100;
        List<String> models = new ArrayList<>();
        for (int i = 0; i < modelCount; i++) {
            String model = newModelId();
            models.add(model);
            events.publish(events.registered(model, "v1.0.0"));
        }
        models.forEach(m -> awaitVersion(mlflowName(m), "1"));
        double changedBefore = mirrored(ModelEvents.STAGE_CHANGED);

        // none -> staging -> production -> staging -> ... ending in production, the models interleaved.
        List<EventEnvelope> storm = new ArrayList<>();
        String[] stage = new String[modelCount];
        Arrays.fill(stage, "none");
        for (int i = 1; i <= changesPerModel; i++) {
            String to = i % 2 == 1 ? "staging" : "production";
            for (int m = 0; m < modelCount; m++) {
                storm.add(events.stageChanged(models.get(m), "v1.0.0", stage[m], to));
                stage[m] = to;
            }
        }
        long start = System.nanoTime();
        events.publish(storm);
        await("every stage change in MLflow", () -> models.stream().allMatch(m -> transitions(mlflowName(m)) == changesPerModel),
                () -> models.stream().map(m -> transitions(mlflowName(m))).toList());
        await("every stage change counted", () -> mirrored(ModelEvents.STAGE_CHANGED) - changedBefore == storm.size(),
                () -> mirrored(ModelEvents.STAGE_CHANGED) - changedBefore);
        double seconds = (System.nanoTime() - start) / 1e9;
        LOG.infof("The MLflow mirror followed %d stage changes in %.1f s: %.0f per second (publishing included)",
                storm.size(), seconds, storm.size() / seconds);

        for (String model : models) {
            String name = mlflowName(model);
            assertEquals(Map.of("production", "1"), mlflow.aliases(name));
            assertEquals("Production", mlflow.versions(name).get("1").stage);
        }
    }

    /** A new model's versions v1.0.0 and v1.1.0 mirrored, the first moved to staging. */
    private void twoVersionsTheFirstInStaging(String model, String name) {
        events.publish(events.registered(model, "v1.0.0"), events.registered(model, "v1.1.0"));
        awaitVersion(name, "2");
        events.publish(events.stageChanged(model, "v1.0.0", "none", "staging"));
        awaitAliases(name, Map.of("staging", "1"));
    }

    private long transitions(String name) {
        return mlflow.changesOf(name).stream().filter(c -> c.startsWith("transition ")).count();
    }

    /**
     * Exactly {@code n} more events of {@code type} counted as mirrored. An event is counted once its
     * transaction commits, after MLflow already shows it: so wait for the count, then check it.
     */
    private static void assertMirrored(String type, double before, int n) {
        await(n + " " + type + " events counted as mirrored", () -> mirrored(type) - before >= n, () -> mirrored(type) - before);
        assertEquals(n, mirrored(type) - before, type + " events counted as mirrored");
    }

    private MlflowTestServer.Version awaitVersion(String name, String number) {
        await("version " + number + " of " + name, () -> mlflow.versions(name).containsKey(number), () -> mlflow.changesOf(name));
        MlflowTestServer.Version v = mlflow.versions(name).get(number);
        assertNotNull(v);
        return v;
    }

    private void awaitAliases(String name, Map<String, String> aliases) {
        await("aliases " + aliases + " of " + name, () -> aliases.equals(mlflow.aliases(name)), () -> mlflow.changesOf(name));
    }
}
