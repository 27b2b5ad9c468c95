package dev.mlinfra.modelserver.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.engine.data.PromptTemplate;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
class OpenAiRoutesTest {

    @io.quarkus.test.common.http.TestHTTPResource("/")
    java.net.URI server;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BASE = "llama4-scout-mini";
    private static final String PROMPT = PromptTemplate.promptText("argoproj/argo-cd",
            "Sync fails with ComparisonError after upgrade", "Since v2.9 every sync of our app fails.");

    private static Map<String, Object> completion(Object... kv) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("prompt", PROMPT);
        body.put("temperature", 0);
        body.put("max_tokens", 24);
        for (int i = 0; i < kv.length; i += 2) {
            body.put((String) kv[i], kv[i + 1]);
        }
        return body;
    }

    private static Response post(String path, Object body) {
        return given().contentType(ContentType.JSON).body(body).post(path);
    }

    private static String text(Object body) {
        return post("/v1/completions", body).then().statusCode(200).extract().path("choices[0].text");
    }

    @Test
    void completionGeneratesTokensAndCountsUsage() {
        post("/v1/completions", completion())
                .then().statusCode(200)
                .body("object", equalTo("text_completion"))
                .body("model", equalTo(BASE))
                .body("id", startsWith("cmpl-"))
                .body("choices[0].index", equalTo(0))
                .body("usage.prompt_tokens", equalTo(PROMPT.replaceAll("<\\|[a-z_]+\\|>", "#").getBytes(
                        java.nio.charset.StandardCharsets.UTF_8).length))
                .body("usage.completion_tokens", greaterThan(0))
                .body("usage.completion_tokens", lessThanOrEqualTo(24))
                .body("choices[0].finish_reason", org.hamcrest.Matchers.oneOf("stop", "length"));
    }

    @Test
    void greedyOutputIsStableAndSeededSamplingIsReproducible() {
        assertEquals(text(completion()), text(completion()));
        Map<String, Object> sampled = completion("temperature", 0.9, "top_p", 0.9, "top_k", 50, "seed", 1234);
        assertEquals(text(sampled), text(sampled));
    }

    @Test
    void stopStringEndsGenerationBeforeIt() {
        String full = text(completion("max_tokens", 40, "stop", List.of()));
        int cps = full.codePointCount(0, full.length());
        if (cps < 12) {
            return;
        }
        int from = full.offsetByCodePoints(0, 6);
        String stop = full.substring(from, full.offsetByCodePoints(from, 3));
        Response r = post("/v1/completions", completion("max_tokens", 40, "stop", stop));
        r.then().statusCode(200).body("choices[0].finish_reason", equalTo("stop"));
        String cut = r.path("choices[0].text");
        assertEquals(full.substring(0, full.indexOf(stop)), cut);
    }

    @Test
    void streamingSendsServerSentEventsWithTheSameText() throws Exception {
        String expected = text(completion("max_tokens", 30));
        Response r = post("/v1/completions", completion("max_tokens", 30, "stream", true,
                "stream_options", Map.of("include_usage", true)));
        r.then().statusCode(200).contentType(startsWith("text/event-stream"));
        StringBuilder streamed = new StringBuilder();
        List<String> events = new ArrayList<>();
        for (String line : r.asString().split("\n")) {
            if (line.startsWith("data: ")) {
                events.add(line.substring(6));
            }
        }
        assertEquals("[DONE]", events.get(events.size() - 1));
        JsonNode usage = JSON.readTree(events.get(events.size() - 2));
        assertTrue(usage.path("usage").path("completion_tokens").asInt() > 0);
        String finish = null;
        for (String e : events.subList(0, events.size() - 2)) {
            JsonNode chunk = JSON.readTree(e);
            assertEquals("text_completion", chunk.path("object").asText());
            streamed.append(chunk.path("choices").path(0).path("text").asText());
            if (!chunk.path("choices").path(0).path("finish_reason").isNull()) {
                finish = chunk.path("choices").path(0).path("finish_reason").asText();
            }
        }
        assertEquals(expected, streamed.toString());
        assertTrue(finish != null);
    }

    @Test
    void chatCompletionAnswersAsAssistantAndStreamsDeltas() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("messages", List.of(Map.of("role", "user", "content", "Pod stuck in CrashLoopBackOff")));
        body.put("max_tokens", 12);
        body.put("temperature", 0);
        post("/v1/chat/completions", body).then().statusCode(200)
                .body("object", equalTo("chat.completion"))
                .body("choices[0].message.role", equalTo("assistant"))
                .body("usage.completion_tokens", greaterThan(0));
        body.put("stream", true);
        String sse = post("/v1/chat/completions", body).then().statusCode(200).extract().asString();
        assertTrue(sse.contains("\"object\":\"chat.completion.chunk\""));
        assertTrue(sse.contains("\"role\":\"assistant\""));
        assertTrue(sse.trim().endsWith("data: [DONE]"));
    }

    @Test
    void adaptersLoadChangeTheOutputAndUnload() throws Exception {
        Path dir = TestAdapters.adapter("style-a", 1);
        String base = text(completion());
        post("/v1/load_lora_adapter", Map.of("lora_name", "style-a", "lora_path", dir.toString()))
                .then().statusCode(200);
        post("/v1/load_lora_adapter", Map.of("lora_name", "style-a", "lora_path", dir.toString()))
                .then().statusCode(200); // loading is idempotent
        post("/v1/load_lora_adapter", Map.of("lora_name", BASE, "lora_path", dir.toString()))
                .then().statusCode(400).body("error.param", equalTo("lora_name"));
        given().get("/v1/models").then().statusCode(200)
                .body("data.id", hasItem("style-a"))
                .body("data.find { it.id == 'style-a' }.parent", equalTo(BASE));
        Response adapted = post("/v1/completions", completion("model", "style-a"));
        adapted.then().statusCode(200).body("model", equalTo("style-a"));
        assertNotEquals(base, adapted.path("choices[0].text"), "the adapter changes what the model generates");

        post("/v1/unload_lora_adapter", Map.of("lora_name", "style-a")).then().statusCode(200);
        post("/v1/completions", completion("model", "style-a")).then().statusCode(404)
                .body("error.type", equalTo("NotFoundError"));
        post("/v1/unload_lora_adapter", Map.of("lora_name", "style-a")).then().statusCode(404);
    }

    @Test
    void leastRecentlyUsedAdapterIsEvictedAndReloadedOnDemand() throws Exception {
        for (String name : List.of("lru-1", "lru-2", "lru-3")) {
            post("/v1/load_lora_adapter", Map.of("lora_name", name, "lora_path", TestAdapters.adapter(name, name.hashCode()).toString()))
                    .then().statusCode(200);
        }
        try {
            Response models = given().get("/v1/models");
            assertFalse(models.<Boolean>path("data.find { it.id == 'lru-1' }.resident"), "max-loras=2 evicts the oldest");
            assertTrue(models.<Boolean>path("data.find { it.id == 'lru-3' }.resident"));
            String first = text(completion("model", "lru-1"));
            models = given().get("/v1/models");
            assertTrue(models.<Boolean>path("data.find { it.id == 'lru-1' }.resident"), "used again, so loaded again");
            assertFalse(models.<Boolean>path("data.find { it.id == 'lru-2' }.resident"), "now the least recently used");
            assertEquals(first, text(completion("model", "lru-1")));
        } finally {
            for (String name : List.of("lru-1", "lru-2", "lru-3")) {
                post("/v1/unload_lora_adapter", Map.of("lora_name", name));
            }
        }
    }

    @Test
    void badParametersAreRejectedInOpenAiErrorShape() {
        Object[][] cases = {
            {"temperature", -1}, {"top_p", 0}, {"top_p", 1.5}, {"top_k", -3}, {"max_tokens", 0},
            {"max_tokens", "ten"}, {"n", 2}, {"stop", 5}, {"seed", "x"}, {"stream", "yes"}, {"prompt", 42}
        };
        for (Object[] c : cases) {
            post("/v1/completions", completion(c[0], c[1])).then().statusCode(400)
                    .body("error.type", equalTo("BadRequestError"))
                    .body("error.param", equalTo(c[0]))
                    .body("error.code", equalTo(400))
                    .body("error.message", org.hamcrest.Matchers.containsString((String) c[0]));
        }
        // What this server cannot honour is refused naming it, not ignored; at its default it asks for nothing and is taken.
        Object[][] unsupported = {
            {"logprobs", 2}, {"echo", true}, {"best_of", 3}, {"presence_penalty", 0.5}, {"frequency_penalty", "NaN"},
            {"logit_bias", Map.of("50256", -100)}, {"suffix", "}"}
        };
        for (Object[] c : unsupported) {
            post("/v1/completions", completion(c[0], c[1])).then().statusCode(400)
                    .body("error.param", equalTo(c[0]))
                    .body("error.message", org.hamcrest.Matchers.startsWith(c[0] + " is not supported by this server, got "));
        }
        post("/v1/chat/completions", Map.of("messages", List.of(Map.of("role", "user", "content", "hi")), "tools",
                List.of(Map.of("type", "function", "function", Map.of("name", "f"))))).then().statusCode(400)
                .body("error.param", equalTo("tools"));
        post("/v1/chat/completions", Map.of("messages", List.of(Map.of("role", "user", "content", "hi")), "response_format",
                Map.of("type", "json_object"))).then().statusCode(400).body("error.param", equalTo("response_format"));
        post("/v1/chat/completions", Map.of("messages", List.of(Map.of("role", "user", "content", "hi")), "max_tokens", 2,
                "logprobs", false, "presence_penalty", 0, "tools", List.of(), "tool_choice", "none", "response_format",
                Map.of("type", "text"), "user", "ci")).then().statusCode(200);
        // More tokens than the model's whole context can never be generated: refused, as vLLM refuses it, not cut short.
        for (String name : List.of("max_tokens", "max_completion_tokens")) {
            post("/v1/chat/completions", Map.of("messages", List.of(Map.of("role", "user", "content", "hi")), name, 1025))
                    .then().statusCode(400).body("error.param", equalTo(name))
                    .body("error.message", equalTo(name + " must be at most 1024, this model's maximum context length (prompt"
                            + " and completion in tokens), got 1025"));
        }
        given().contentType(ContentType.JSON).body("{not json").post("/v1/completions").then().statusCode(400);
        post("/v1/completions", completion("model", "nope")).then().statusCode(404).body("error.param", equalTo("model"));
        post("/v1/load_lora_adapter", Map.of("lora_name", "x", "lora_path", "/does/not/exist")).then().statusCode(400)
                .body("error.param", equalTo("lora_path"));
        post("/v1/chat/completions", Map.of("messages", List.of())).then().statusCode(400)
                .body("error.param", equalTo("messages"));
    }

    @Test
    void aChatWithoutMaxTokensRunsOnAndATooLongOneNamesItsMessages() throws Exception {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("messages", List.of(Map.of("role", "user", "content", RawStream.ENDLESS_PROMPT)));
        body.put("temperature", 0);
        body.put("stream", true);
        // vLLM and OpenAI let a chat run to its end (never, for this prompt) or the context's; completions stop at 16 tokens
        try (RawStream answer = new RawStream(server, "/v1/chat/completions", body)) {
            for (int i = 0; i < 40; i++) {
                JsonNode choice = answer.nextEvent().path("choices").path(0);
                assertTrue(choice.path("finish_reason").isNull() || choice.path("finish_reason").isMissingNode(),
                        "ended after " + i + " events: " + choice);
            }
        }
        post("/v1/chat/completions", Map.of("messages", List.of(Map.of("role", "user", "content", "word ".repeat(1100)))))
                .then().statusCode(400).body("error.param", equalTo("messages"))
                .body("error.message", startsWith("This model's maximum context length is 1024 tokens."));
    }

    @Test
    void modelsListTheBase() {
        given().get("/v1/models").then().statusCode(200)
                .body("object", equalTo("list"))
                .body("data[0].id", equalTo(BASE))
                .body("data[0].max_model_len", equalTo(1024));
        given().get("/health").then().statusCode(200);
    }

    @Test
    void healthNamesTheServersProcess() {
        // a supervisor tells its own server from another process on the same port by this
        given().get("/health").then().statusCode(200)
                .header(OpenAiRoutes.PROCESS_ID_HEADER, Long.toString(ProcessHandle.current().pid()));
    }

    @Test
    void versionIsTheVersionOfTheBuild() {
        String version = System.getProperty("mlinfra.version");
        assertNotNull(version, "the parent pom gives every test JVM mlinfra.version");
        given().get("/version").then().statusCode(200).contentType(ContentType.JSON)
                .body("version", equalTo(version));
    }
}
