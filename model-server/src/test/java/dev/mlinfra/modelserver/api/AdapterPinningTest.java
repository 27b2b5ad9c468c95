package dev.mlinfra.modelserver.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.engine.data.PromptTemplate;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Pinned adapters (model-server's extension of {@code /v1/load_lora_adapter}) next to the LRU of
 * on-demand adapters, which holds at most max-loras (2 in the test profile).
 */
@QuarkusTest
class AdapterPinningTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PROMPT = PromptTemplate.promptText("helm/helm",
            "Upgrade hangs on pre-upgrade hook", "The hook job never completes and the release stays pending.");

    private static Response post(String path, Object body) {
        return given().contentType(ContentType.JSON).body(body).post(path);
    }

    private static Response load(String name, String path, Boolean pinned) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("lora_name", name);
        body.put("lora_path", path);
        if (pinned != null) {
            body.put("pinned", pinned);
        }
        return post("/v1/load_lora_adapter", body);
    }

    private static String complete(String model) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", model);
        body.put("prompt", PROMPT);
        body.put("temperature", 0);
        body.put("max_tokens", 6);
        return post("/v1/completions", body).then().statusCode(200).extract().path("choices[0].text");
    }

    /** The adapters of {@code /v1/models} by id. */
    private static Map<String, JsonNode> models() throws Exception {
        JsonNode list = JSON.readTree(given().get("/v1/models").then().statusCode(200).extract().asString());
        Map<String, JsonNode> byId = new LinkedHashMap<>();
        for (JsonNode m : list.path("data")) {
            byId.put(m.path("id").asText(), m);
        }
        return byId;
    }

    private static List<String> resident(Map<String, JsonNode> models, List<String> names) {
        List<String> out = new ArrayList<>();
        for (String name : names) {
            if (models.get(name).path("resident").asBoolean()) {
                out.add(name);
            }
        }
        return out;
    }

    private static void unloadAll(List<String> names) {
        for (String name : names) {
            post("/v1/unload_lora_adapter", Map.of("lora_name", name));
        }
    }

    @Test
    void pinnedAdaptersStayResidentWhileUnpinnedOnesAreEvictedDownToMaxLoras() throws Exception {
        List<String> pinned = List.of("prod-a", "prod-b");
        List<String> onDemand = List.of("ondemand-1", "ondemand-2", "ondemand-3");
        List<String> all = new ArrayList<>(pinned);
        all.addAll(onDemand);
        try {
            for (String name : pinned) {
                load(name, TestAdapters.adapter(name, name.hashCode()).toString(), true).then().statusCode(200);
            }
            for (String name : onDemand) {
                load(name, TestAdapters.adapter(name, name.hashCode()).toString(), null).then().statusCode(200);
            }
            Map<String, JsonNode> models = models();
            assertEquals(pinned, resident(models, pinned), "pinned adapters are read at load time");
            assertEquals(List.of("ondemand-2", "ondemand-3"), resident(models, onDemand),
                    "two unpinned adapters fit in max-loras 2 beside the pinned ones; the oldest is evicted");
            for (String name : pinned) {
                assertTrue(models.get(name).path("pinned").asBoolean(), name + " is listed as pinned");
            }
            for (String name : onDemand) {
                assertFalse(models.get(name).path("pinned").asBoolean(), name + " is listed as not pinned");
            }

            Map<String, String> pinnedAnswers = new LinkedHashMap<>();
            String previous = "ondemand-3";
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < onDemand.size(); i++) {
                    String name = onDemand.get(i);
                    complete(name);
                    String prod = pinned.get(i % pinned.size());
                    String answer = complete(prod);
                    assertEquals(pinnedAnswers.computeIfAbsent(prod, p -> answer), answer, prod + " answers as before");

                    models = models();
                    assertEquals(pinned, resident(models, pinned), "pinned adapters stay in memory after " + name);
                    String before = previous;
                    List<String> expected = onDemand.stream().filter(n -> n.equals(name) || n.equals(before)).toList();
                    assertEquals(expected, resident(models, onDemand),
                            "the two most recently used unpinned adapters are in memory after " + name);
                    previous = name;
                }
            }
        } finally {
            unloadAll(all);
        }
    }

    @Test
    void loadingTheSameNameAndPathAgainAnswers200AndSetsPinned() throws Exception {
        String path = TestAdapters.adapter("toggle", 11).toString();
        String otherPath = TestAdapters.adapter("toggle-other", 12).toString();
        List<String> fill = List.of("fill-1", "fill-2");
        List<String> all = List.of("toggle", "fill-1", "fill-2");
        try {
            load("toggle", path, null).then().statusCode(200);
            assertFalse(models().get("toggle").path("pinned").asBoolean(), "not pinned by default");

            load("toggle", path, true).then().statusCode(200).body(containsString("toggle"));
            Map<String, JsonNode> models = models();
            assertTrue(models.get("toggle").path("pinned").asBoolean(), "loading again pins it");
            assertEquals(path, models.get("toggle").path("root").asText());

            for (String name : fill) {
                load(name, TestAdapters.adapter(name, name.hashCode()).toString(), false).then().statusCode(200);
            }
            models = models();
            assertEquals(all, resident(models, all), "two unpinned adapters beside a pinned one, none evicted");

            load("toggle", path, false).then().statusCode(200);
            models = models();
            assertFalse(models.get("toggle").path("pinned").asBoolean(), "loading again unpins it");
            assertEquals(List.of("toggle", "fill-2"), resident(models, all),
                    "unpinned, it counts against max-loras again: the least recently used unpinned one is evicted");

            complete("fill-1");
            complete("fill-2");
            assertEquals(fill, resident(models(), all), "unpinned, it is evicted like any other");

            load("toggle", path, true).then().statusCode(200);
            models = models();
            assertTrue(models.get("toggle").path("pinned").asBoolean());
            assertEquals(all, resident(models, all), "pinning an evicted adapter reads it and evicts nothing");

            for (Boolean pinned : new Boolean[] {null, true}) {
                load("toggle", otherPath, pinned).then().statusCode(400)
                        .body("error.type", equalTo("BadRequestError"))
                        .body("error.param", equalTo("lora_name"))
                        .body("error.code", equalTo(400))
                        .body("error.message", containsString(path));
            }
            models = models();
            assertEquals(path, models.get("toggle").path("root").asText(), "another path changes nothing");
            assertTrue(models.get("toggle").path("pinned").asBoolean(), "another path changes nothing");

            post("/v1/load_lora_adapter", Map.of("lora_name", "toggle", "lora_path", path, "pinned", "yes"))
                    .then().statusCode(400).body("error.param", equalTo("pinned"));

            post("/v1/unload_lora_adapter", Map.of("lora_name", "toggle")).then().statusCode(200);
            assertFalse(models().containsKey("toggle"), "a pinned adapter unloads like any other");
            post("/v1/completions", Map.of("model", "toggle", "prompt", PROMPT)).then().statusCode(404)
                    .body("error.param", equalTo("model"));
        } finally {
            unloadAll(all);
        }
    }
}
