package dev.mlinfra.inference.rest;

import static dev.mlinfra.inference.rest.ServingFixtures.as;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.storage.ObjectStore;
import dev.mlinfra.commons.storage.S3Config;
import dev.mlinfra.engine.data.PromptTemplate;
import dev.mlinfra.testsupport.DevstackResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import io.quarkus.test.kubernetes.client.KubernetesTestServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The kserve backend against the fabric8 Kubernetes mock server in CRUD mode, played as KServe
 * would: the test installs KServe's CRDs, drives each object's status, and points its
 * {@code status.url} at a real model-server it starts. inference-service creates an
 * InferenceService per model type with the expected spec, answers 503 with Retry-After until KServe
 * says Ready, then runs real generations on that server; adopts an object an earlier run left in
 * the cluster; and deletes an object once no servable model of its type remains.
 *
 * <p>{@code openai-path} is {@code /} here because model-server answers {@code /v1/...} at its root,
 * where KServe's Hugging Face runtime answers under {@code /openai} (the default, whose URL
 * joining KServeObjectsTest checks).
 */
@QuarkusTest
@TestProfile(KServeBackendTest.Profile.class)
@QuarkusTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = "database", value = "inference"),
        restrictToAnnotatedClass = true)
@WithKubernetesTestServer(crud = true, setup = KServeBackendTest.Cluster.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KServeBackendTest {

    static final String TEAM = "team-kserve";
    /** The namespace of the mock server's client, which the backend uses when none is configured. */
    static final String NAMESPACE = "test";
    static final ResourceDefinitionContext ISVC = new ResourceDefinitionContext.Builder().withGroup("serving.kserve.io")
            .withVersion("v1beta1").withKind("InferenceService").withPlural("inferenceservices").withNamespaced(true).build();
    static final Map<String, Object> GREEDY = Map.of("temperature", 0, "max_tokens", 16);

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("mlinfra.inference.backend", "kserve",
                    "mlinfra.inference.kserve.storage-uri.scout", "s3://mlinfra-models/bases/scout",
                    "mlinfra.inference.kserve.storage-uri.maverick", "s3://mlinfra-models/bases/maverick",
                    "mlinfra.inference.kserve.service-account", "mlinfra-serving",
                    "mlinfra.inference.kserve.args", "--max-model-len=2048",
                    "mlinfra.inference.kserve.openai-path", "/",
                    "mlinfra.inference.reconcile-interval", "1s");
        }
    }

    /** The cluster before the service starts: KServe's CRDs, and the maverick server an earlier run created, still starting. */
    public static class Cluster implements Consumer<KubernetesServer> {
        static volatile String earlierUid;

        @Override
        public void accept(KubernetesServer server) {
            KubernetesClient client = server.getClient();
            for (String kind : List.of("InferenceService", "LLMInferenceService")) {
                String plural = kind.toLowerCase() + "s";
                client.apiextensions().v1().customResourceDefinitions().resource(new CustomResourceDefinitionBuilder()
                        .withNewMetadata().withName(plural + ".serving.kserve.io").endMetadata()
                        .withNewSpec().withGroup("serving.kserve.io").withScope("Namespaced")
                        .withNewNames().withKind(kind).withPlural(plural).withSingular(kind.toLowerCase()).endNames()
                        .addNewVersion().withName(kind.equals("InferenceService") ? "v1beta1" : "v1alpha1").withServed(true)
                        .withStorage(true).withNewSubresources().withNewStatus().endStatus().endSubresources()
                        .withNewSchema().withNewOpenAPIV3Schema().withType("object").withXKubernetesPreserveUnknownFields(true)
                        .endOpenAPIV3Schema().endSchema().endVersion()
                        .endSpec().build()).create();
            }
            GenericKubernetesResource earlier = new GenericKubernetesResourceBuilder().withApiVersion("serving.kserve.io/v1beta1")
                    .withKind("InferenceService").withNewMetadata().withName("mlinfra-maverick").withNamespace(NAMESPACE)
                    .addToLabels("app.kubernetes.io/managed-by", "inference-service").addToLabels("mlinfra.dev/model-type", "maverick")
                    .endMetadata()
                    .addToAdditionalProperties("spec", Map.of("predictor", Map.of("model", Map.of("modelFormat",
                            Map.of("name", "huggingface"), "storageUri", "s3://mlinfra-models/bases/maverick"))))
                    .build();
            earlierUid = client.genericKubernetesResources(ISVC).inNamespace(NAMESPACE).resource(earlier).create()
                    .getMetadata().getUid();
        }
    }

    static Process modelServer;
    static URI modelServerUrl;
    static String firstModel;

    @KubernetesTestServer
    KubernetesServer cluster;

    @Inject
    ObjectStore store;

    @Inject
    ObjectMapper json;

    @Inject
    S3Config s3;

    @AfterAll
    static void stopModelServer() throws InterruptedException {
        if (modelServer != null) {
            modelServer.destroy();
            if (!modelServer.waitFor(20, TimeUnit.SECONDS)) {
                modelServer.destroyForcibly();
            }
        }
    }

    private static Map<String, Object> request(String modelId) {
        return Map.of("model_id", modelId, "input", InferenceApiTest.INPUT, "parameters", GREEDY);
    }

    private GenericKubernetesResource object(String name) {
        return cluster.getClient().genericKubernetesResources(ISVC).inNamespace(NAMESPACE).withName(name).get();
    }

    /** What KServe writes when the predictor is up or down: the Ready condition and the URL. */
    private void setStatus(String name, boolean ready, String url) {
        GenericKubernetesResource r = object(name);
        Map<String, Object> condition = ready ? Map.of("type", "Ready", "status", "True")
                : Map.of("type", "Ready", "status", "False", "reason", "RevisionMissing", "message", "the predictor is starting");
        r.setAdditionalProperty("status", url == null ? Map.of("conditions", List.of(condition))
                : Map.of("url", url, "conditions", List.of(condition)));
        cluster.getClient().genericKubernetesResources(ISVC).inNamespace(NAMESPACE).resource(r).updateStatus();
    }

    /** How many InferenceServices were created since the last call (the mock server records requests, not their bodies). */
    private int creates() throws InterruptedException {
        int creates = 0;
        RecordedRequest r;
        while ((r = cluster.getKubernetesMockServer().takeRequest(10, TimeUnit.MILLISECONDS)) != null) {
            if ("POST".equals(r.getMethod()) && r.getPath().equals("/apis/serving.kserve.io/v1beta1/namespaces/" + NAMESPACE
                    + "/inferenceservices")) {
                creates++;
            }
        }
        return creates;
    }

    private static Map<String, Object> server(String modelType) {
        List<Map<String, Object>> servers = as(TEAM).get("/internal/v1/inference/servers").then().statusCode(200)
                .body("backend", equalTo("kserve")).extract().jsonPath().getList("servers");
        return servers.stream().filter(s -> modelType.equals(s.get("model_type"))).findFirst().orElse(null);
    }

    @Test
    @Order(1)
    void aModelOfANewTypeGetsAnInferenceServiceAndIsServedOnceKServeSaysReady() throws Exception {
        ServingFixtures fixtures = new ServingFixtures(store, json);
        String id = ServingFixtures.newModelId();
        String artifact = fixtures.adapter(TEAM, "train-" + id, 41, true);
        fixtures.registered(TEAM, id, "v1.0.0", "production", artifact);

        ServingFixtures.await("the scout InferenceService", () -> object("mlinfra-scout") != null, () -> "none");
        assertEquals(2, creates(), "the earlier run's maverick server and this scout one");
        GenericKubernetesResource isvc = object("mlinfra-scout");
        assertEquals("serving.kserve.io/v1beta1", isvc.getApiVersion());
        assertEquals("InferenceService", isvc.getKind());
        assertEquals(Map.of("app.kubernetes.io/managed-by", "inference-service", "mlinfra.dev/model-type", "scout"),
                isvc.getMetadata().getLabels());
        assertEquals(1, (int) isvc.get("spec", "predictor", "minReplicas"));
        assertEquals(1, (int) isvc.get("spec", "predictor", "maxReplicas"));
        assertEquals("mlinfra-serving", isvc.get("spec", "predictor", "serviceAccountName"));
        assertEquals(Map.of("name", "huggingface"), isvc.get("spec", "predictor", "model", "modelFormat"));
        assertEquals("s3://mlinfra-models/bases/scout", isvc.get("spec", "predictor", "model", "storageUri"));
        assertEquals(List.of("--enable-lora", "--max-loras=4", "--max-lora-rank=16", "--max-model-len=2048"),
                isvc.get("spec", "predictor", "model", "args"));
        assertEquals(List.of(Map.of("name", "VLLM_ALLOW_RUNTIME_LORA_UPDATING", "value", "True")),
                isvc.get("spec", "predictor", "model", "env"));
        assertEquals(Map.of("requests", Map.of("nvidia.com/gpu", "1"), "limits", Map.of("nvidia.com/gpu", "1")),
                isvc.get("spec", "predictor", "model", "resources"));
        assertNull(isvc.get("spec", "predictor", "model", "image"), "KServe picks the runtime when no image is configured");

        // Not ready: the deployment waits, inference answers 503 with Retry-After, the status page says why.
        setStatus("mlinfra-scout", false, null);
        ServingFixtures.await("the reason on the status page", () -> server("scout") != null
                && "RevisionMissing: the predictor is starting".equals(server("scout").get("last_exit")), () -> server("scout"));
        assertEquals("starting", server("scout").get("state"));
        assertEquals("deploying", ServingFixtures.state(TEAM, id));
        Response waiting = as(TEAM).contentType(ContentType.JSON).body(request(id)).post("/v1/inference");
        assertEquals(503, waiting.statusCode(), waiting.asString());
        assertTrue(Integer.parseInt(waiting.header("Retry-After")) > 0);

        // Ready at a real model server: the adapter is loaded there by its object-store location, and served.
        startModelServer();
        setStatus("mlinfra-scout", true, modelServerUrl.toString());
        ServingFixtures.awaitState(TEAM, id, "ready");
        assertEquals("ready", server("scout").get("state"));
        assertEquals(modelServerUrl.toString(), server("scout").get("url"));
        Response served = as(TEAM).contentType(ContentType.JSON).body(request(id)).post("/v1/inference");
        served.then().statusCode(200).body("metadata.model_version", equalTo("v1.0.0"))
                .body("metadata.tokens_generated", greaterThan(0));
        String direct = given().baseUri(modelServerUrl.toString()).contentType(ContentType.JSON)
                .body(Map.of("model", ServingFixtures.servedName(TEAM, id), "prompt", PromptTemplate.promptText(
                        InferenceApiTest.INPUT.get("repository"), InferenceApiTest.INPUT.get("issue_title"),
                        InferenceApiTest.INPUT.get("issue_description")), "max_tokens", 16, "temperature", 0, "stop", List.of("<|eot|>")))
                .post("/v1/completions").then().statusCode(200).extract().jsonPath().getString("choices[0].text");
        assertEquals(direct, served.jsonPath().getString("output"), "the model server's own generation for the adapter");

        // KServe takes it out of service (a pod restarting): 503 again; Ready again: served again.
        setStatus("mlinfra-scout", false, modelServerUrl.toString());
        ServingFixtures.await("503 while not ready", () -> as(TEAM).contentType(ContentType.JSON).body(request(id))
                .post("/v1/inference").statusCode() == 503, () -> server("scout"));
        setStatus("mlinfra-scout", true, modelServerUrl.toString());
        ServingFixtures.await("answers once ready again", () -> as(TEAM).contentType(ContentType.JSON).body(request(id))
                .post("/v1/inference").statusCode() == 200, () -> server("scout"));
        assertEquals(1, cluster.getClient().genericKubernetesResources(ISVC).inNamespace(NAMESPACE).list().getItems().stream()
                .filter(r -> r.getMetadata().getName().equals("mlinfra-scout")).count());
        firstModel = id;
    }

    @Test
    @Order(2)
    void anInferenceServiceAnEarlierRunCreatedIsAdoptedNotCreatedAgain() throws Exception {
        creates();
        ServingFixtures fixtures = new ServingFixtures(store, json);
        String id = ServingFixtures.newModelId();
        String artifact = fixtures.adapter(TEAM, "train-" + id, 43, true);
        fixtures.registered(TEAM, id, "maverick", "v1.0.0", "staging", artifact);
        ServingFixtures.awaitState(TEAM, id, "deploying");
        ServingFixtures.await("the adopted maverick server on the status page", () -> server("maverick") != null,
                () -> as(TEAM).get("/internal/v1/inference/servers").asString());
        assertEquals("starting", server("maverick").get("state"));
        // a few rounds of keeping servers up, each of which asks for the maverick server
        Thread.sleep(3000);

        assertEquals(Cluster.earlierUid, object("mlinfra-maverick").getMetadata().getUid());
        assertEquals(0, creates(), "the maverick server is the earlier run's, not created again");
        Response waiting = as(TEAM).contentType(ContentType.JSON).body(request(id)).post("/v1/inference");
        assertEquals(503, waiting.statusCode(), waiting.asString());

        // its only model is deleted: the adopted server goes
        fixtures.deleted(TEAM, id, List.of("v1.0.0"));
        ServingFixtures.await("the maverick InferenceService deleted", () -> object("mlinfra-maverick") == null,
                () -> object("mlinfra-maverick"));
        assertNull(server("maverick"));
    }

    @Test
    @Order(3)
    void theInferenceServiceGoesOnlyWhenNoServableModelOfItsTypeRemains() throws Exception {
        assertNotNull(firstModel, "runs after the scout server served");
        ServingFixtures fixtures = new ServingFixtures(store, json);
        String second = ServingFixtures.newModelId();
        String artifact = fixtures.adapter(TEAM, "train-" + second, 47, true);
        fixtures.registered(TEAM, second, "v1.0.0", "staging", artifact);
        ServingFixtures.awaitState(TEAM, second, "ready");

        fixtures.deleted(TEAM, firstModel, List.of("v1.0.0"));
        ServingFixtures.awaitState(TEAM, firstModel, "absent");
        Thread.sleep(2000);
        assertNotNull(object("mlinfra-scout"), "another scout model is still served");
        as(TEAM).contentType(ContentType.JSON).body(request(second)).post("/v1/inference").then().statusCode(200);

        fixtures.stageChanged(TEAM, second, "v1.0.0", "staging", "archived", artifact);
        ServingFixtures.awaitState(TEAM, second, "removed");
        ServingFixtures.await("the scout InferenceService deleted", () -> object("mlinfra-scout") == null,
                () -> object("mlinfra-scout"));
        assertNull(server("scout"), "no scout server is listed");
        as(TEAM).contentType(ContentType.JSON).body(request(second)).post("/v1/inference").then().statusCode(409);
    }

    /** model-server as the local backend starts it, but by the test: the server KServe would run, at its root. */
    private void startModelServer() throws Exception {
        if (modelServer != null) {
            return;
        }
        var config = ConfigProvider.getConfig();
        Path jar = Path.of(config.getValue("mlinfra.inference.local.model-server-jar", String.class));
        Path dataDir = Path.of(config.getValue("mlinfra.inference.local.engine-data-dir", String.class)).toAbsolutePath();
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED",
                "-Dquarkus.http.host=127.0.0.1", "-Dquarkus.http.port=" + port,
                "-Dmlinfra.model-server.base-model=scout", "-Dmlinfra.model-server.max-loras=2",
                "-Dmlinfra.model-server.data-dir=" + dataDir, "-jar", jar.toAbsolutePath().toString());
        builder.environment().put("MLINFRA_S3_ENDPOINT", s3.endpoint());
        builder.environment().put("MLINFRA_S3_ACCESS_KEY", s3.accessKey());
        builder.environment().put("MLINFRA_S3_SECRET_KEY", s3.secretKey());
        builder.environment().put("MLINFRA_S3_REGION", s3.region());
        File log = Path.of("target", "kserve-model-server.log").toFile();
        modelServer = builder.redirectErrorStream(true).redirectOutput(log).start();
        modelServerUrl = URI.create("http://127.0.0.1:" + port);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        ServingFixtures.await("model-server healthy (log " + log + ")", () -> {
            try {
                return http.send(HttpRequest.newBuilder(modelServerUrl.resolve("/health")).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }, () -> "alive: " + modelServer.isAlive());
    }
}
