package dev.mlinfra.modelserver.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.engine.data.PromptTemplate;
import dev.mlinfra.engine.generate.SamplingParams;
import dev.mlinfra.modelserver.service.GenerationRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/** Reads and validates OpenAI request bodies; every problem becomes a 400 naming the parameter. */
final class RequestParser {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_STOP = 4;

    private RequestParser() {
    }

    static JsonNode body(String text) {
        if (text == null || text.isBlank()) {
            throw ApiException.badRequest(null, "request body must be a JSON object");
        }
        try {
            JsonNode node = JSON.readTree(text);
            if (node == null || !node.isObject()) {
                throw ApiException.badRequest(null, "request body must be a JSON object");
            }
            return node;
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw ApiException.badRequest(null, "request body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    /** POST /v1/completions. */
    static GenerationRequest completion(JsonNode body, int defaultMaxTokens, int context) {
        JsonNode prompt = body.get("prompt");
        String text;
        if (prompt == null || prompt.isNull()) {
            throw ApiException.badRequest("prompt", "prompt is required");
        } else if (prompt.isTextual()) {
            text = prompt.asText();
        } else if (prompt.isArray() && prompt.size() == 1 && prompt.get(0).isTextual()) {
            text = prompt.get(0).asText();
        } else if (prompt.isArray()) {
            throw ApiException.badRequest("prompt", "prompt must be a string or a list with one string (batched prompts are not supported)");
        } else {
            throw ApiException.badRequest("prompt", "prompt must be a string");
        }
        if (text.isEmpty()) {
            throw ApiException.badRequest("prompt", "prompt must not be empty");
        }
        return common(body, text, "prompt", defaultMaxTokens, context);
    }

    /** POST /v1/chat/completions: messages rendered with the model's chat format. */
    static GenerationRequest chat(JsonNode body, int context) {
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiException.badRequest("messages", "messages must be a non-empty list of {role, content}");
        }
        List<String[]> rendered = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String role = m.path("role").asText("");
            if (!List.of("system", "user", "assistant", "tool").contains(role)) {
                throw ApiException.badRequest("messages[" + i + "].role", "role must be system, user, assistant or tool");
            }
            JsonNode content = m.get("content");
            String text;
            if (content != null && content.isTextual()) {
                text = content.asText();
            } else if (content != null && content.isArray()) {
                StringBuilder sb = new StringBuilder();
                for (JsonNode part : content) {
                    if (!"text".equals(part.path("type").asText())) {
                        throw ApiException.badRequest("messages[" + i + "].content", "only text content parts are supported");
                    }
                    sb.append(part.path("text").asText());
                }
                text = sb.toString();
            } else {
                throw ApiException.badRequest("messages[" + i + "].content", "content must be a string or a list of text parts");
            }
            rendered.add(new String[] {role, text});
        }
        // as vLLM and OpenAI: a chat without max_tokens answers until it ends or the context is full
        return common(body, PromptTemplate.chatPromptText(rendered), "messages", context, context);
    }

    /**
     * OpenAI parameters this server cannot honour, each with the values that ask for nothing it
     * lacks (their defaults). Any other value is refused naming it: ignored, it would give an answer
     * other than the one asked for (no log-probabilities, no echoed prompt, no tool call) without
     * a word. Fields OpenAI does not have are ignored, as vLLM ignores them.
     */
    private static final Map<String, Predicate<JsonNode>> UNSUPPORTED = new TreeMap<>(Map.ofEntries(
            Map.entry("logprobs", v -> v.isBoolean() && !v.asBoolean()),
            Map.entry("top_logprobs", v -> v.isNumber() && v.asDouble() == 0),
            Map.entry("echo", v -> v.isBoolean() && !v.asBoolean()),
            Map.entry("best_of", v -> v.isNumber() && v.asDouble() == 1),
            Map.entry("presence_penalty", v -> v.isNumber() && v.asDouble() == 0),
            Map.entry("frequency_penalty", v -> v.isNumber() && v.asDouble() == 0),
            Map.entry("repetition_penalty", v -> v.isNumber() && v.asDouble() == 1),
            Map.entry("min_tokens", v -> v.isNumber() && v.asDouble() == 0),
            Map.entry("logit_bias", v -> v.isObject() && v.isEmpty()),
            Map.entry("tools", v -> v.isArray() && v.isEmpty()),
            Map.entry("functions", v -> v.isArray() && v.isEmpty()),
            Map.entry("tool_choice", v -> v.isTextual() && List.of("none", "auto").contains(v.asText())),
            Map.entry("function_call", v -> v.isTextual() && List.of("none", "auto").contains(v.asText())),
            Map.entry("response_format", v -> v.isObject() && v.size() == 1 && "text".equals(v.path("type").asText())),
            Map.entry("suffix", v -> v.isTextual() && v.asText().isEmpty())));

    private static void refuseUnsupported(JsonNode body) {
        for (Map.Entry<String, Predicate<JsonNode>> p : UNSUPPORTED.entrySet()) {
            JsonNode v = body.get(p.getKey());
            if (v != null && !v.isNull() && !p.getValue().test(v)) {
                String shown = v.toString();
                throw ApiException.badRequest(p.getKey(), p.getKey() + " is not supported by this server, got "
                        + (shown.length() > 80 ? shown.substring(0, 80) + "..." : shown) + "; leave it out (or at its default)");
            }
        }
    }

    private static GenerationRequest common(JsonNode body, String prompt, String promptField, int defaultMaxTokens,
            int context) {
        refuseUnsupported(body);
        String model = optionalText(body, "model");
        int n = (int) integer(body, "n", 1);
        if (n != 1) {
            throw ApiException.badRequest("n", "only n=1 is supported");
        }
        JsonNode maxNode = body.has("max_completion_tokens") ? body.get("max_completion_tokens") : body.get("max_tokens");
        String maxName = body.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        long maxTokens = maxNode == null || maxNode.isNull() ? defaultMaxTokens : integerValue(maxNode, maxName);
        if (maxTokens < 1) {
            throw ApiException.badRequest(maxName, maxName + " must be at least 1, got " + maxTokens);
        }
        if (maxTokens > context) {
            // more than the whole context, the prompt's place included, can never be generated
            throw ApiException.badRequest(maxName, maxName + " must be at most " + context + ", this model's maximum context"
                    + " length (prompt and completion in tokens), got " + maxTokens);
        }
        double temperature = number(body, "temperature", 1.0);
        if (temperature < 0 || temperature > 2) {
            throw ApiException.badRequest("temperature", "temperature must be between 0 and 2, got " + temperature);
        }
        double topP = number(body, "top_p", 1.0);
        if (!(topP > 0 && topP <= 1)) {
            throw ApiException.badRequest("top_p", "top_p must be in (0, 1], got " + topP);
        }
        long topK = integer(body, "top_k", -1);
        if (topK < -1) {
            throw ApiException.badRequest("top_k", "top_k must be -1 (disabled) or at least 1, got " + topK);
        }
        Long seed = body.has("seed") && !body.get("seed").isNull() ? integerValue(body.get("seed"), "seed") : null;
        List<String> stop = stop(body.get("stop"));
        boolean stream = bool(body, "stream", false);
        JsonNode options = body.get("stream_options");
        boolean includeUsage = options != null && options.isObject() && options.path("include_usage").asBoolean(false);
        SamplingParams params = new SamplingParams(temperature, topP, topK == 0 ? -1 : (int) topK,
                (int) Math.min(Integer.MAX_VALUE, maxTokens), stop, seed);
        return new GenerationRequest(model, prompt, promptField, params, stream, includeUsage);
    }

    private static List<String> stop(JsonNode node) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (node.isTextual()) {
            return node.asText().isEmpty() ? List.of() : List.of(node.asText());
        }
        if (node.isArray()) {
            if (node.size() > MAX_STOP) {
                throw ApiException.badRequest("stop", "stop takes at most " + MAX_STOP + " strings");
            }
            List<String> out = new ArrayList<>();
            for (JsonNode s : node) {
                if (!s.isTextual()) {
                    throw ApiException.badRequest("stop", "stop must be a string or a list of strings");
                }
                if (!s.asText().isEmpty()) {
                    out.add(s.asText());
                }
            }
            return out;
        }
        throw ApiException.badRequest("stop", "stop must be a string or a list of strings");
    }

    static String optionalText(JsonNode body, String field) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw ApiException.badRequest(field, field + " must be a string");
        }
        return n.asText();
    }

    static String requiredText(JsonNode body, String field) {
        String s = optionalText(body, field);
        if (s == null || s.isBlank()) {
            throw ApiException.badRequest(field, field + " is required");
        }
        return s;
    }

    private static double number(JsonNode body, String field, double fallback) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isNumber()) {
            throw ApiException.badRequest(field, field + " must be a number");
        }
        return n.asDouble();
    }

    private static long integer(JsonNode body, String field, long fallback) {
        JsonNode n = body.get(field);
        return n == null || n.isNull() ? fallback : integerValue(n, field);
    }

    private static long integerValue(JsonNode n, String field) {
        if (!n.isIntegralNumber() && !(n.isNumber() && n.asDouble() == Math.rint(n.asDouble()))) {
            throw ApiException.badRequest(field, field + " must be an integer");
        }
        return n.asLong();
    }

    static boolean bool(JsonNode body, String field, boolean fallback) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isBoolean()) {
            throw ApiException.badRequest(field, field + " must be true or false");
        }
        return n.asBoolean();
    }
}
