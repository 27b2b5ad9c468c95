package dev.mlinfra.inference.service;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlinfra.commons.error.ApiException;
import dev.mlinfra.commons.error.ErrorMappers;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A {@code POST /v1/inference} body, read strictly: an unknown field, a missing input field or a
 * parameter out of its range is a 400 that names the field.
 *
 * @param stream answer as server-sent events (beyond the contract)
 */
public record InferenceRequest(String modelId, Map<String, String> input, Parameters parameters, boolean stream) {

    private static final Set<String> FIELDS = Set.of("model_id", "input", "parameters", "stream");
    /** The fields of {@code input}: what a prompt template can ask for. */
    static final Set<String> INPUT = Set.of("repository", "issue_title", "issue_description");
    private static final Set<String> PARAMETERS = Set.of("temperature", "max_tokens", "top_p", "top_k", "seed");

    /**
     * Sampling parameters.
     *
     * @param temperature 0..2 (0: greedy), default 0.7
     * @param maxTokens   1..the model's context, default 256
     * @param topP        (0, 1], default 1
     * @param topK        -1 (off) or at least 1, default -1
     * @param seed        makes sampling repeatable (beyond the contract); null: random
     */
    public record Parameters(double temperature, int maxTokens, double topP, int topK, Long seed) {
    }

    public static InferenceRequest parse(JsonNode body, int maxContextTokens) {
        if (body == null || !body.isObject()) {
            throw ApiException.badRequest("The request body must be a JSON object with model_id, input and parameters");
        }
        unknown(body, FIELDS, "");
        String modelId = text(body, "model_id", "model_id");
        JsonNode in = body.get("input");
        if (in == null || in.isNull()) {
            throw ApiException.badRequest("Field 'input' is required: an object with repository, issue_title and issue_description");
        }
        if (!in.isObject()) {
            throw ApiException.badRequest("Field 'input' must be an object with repository, issue_title and issue_description");
        }
        unknown(in, INPUT, "input.");
        Map<String, String> input = new LinkedHashMap<>();
        for (String f : new String[] {"repository", "issue_title", "issue_description"}) {
            input.put(f, text(in, f, "input." + f));
        }
        JsonNode p = body.get("parameters");
        if (p != null && !p.isNull() && !p.isObject()) {
            throw ApiException.badRequest("Field 'parameters' must be an object (temperature, max_tokens, top_p, top_k)");
        }
        if (p == null || p.isNull()) {
            p = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        }
        unknown(p, PARAMETERS, "parameters.");
        double temperature = number(p, "temperature", 0.7);
        if (temperature < 0 || temperature > 2) {
            throw ApiException.badRequest("Field 'parameters.temperature' must be between 0 and 2, got " + temperature);
        }
        double topP = number(p, "top_p", 1.0);
        if (topP <= 0 || topP > 1) {
            throw ApiException.badRequest("Field 'parameters.top_p' must be greater than 0 and at most 1, got " + topP);
        }
        int topK = integer(p, "top_k", -1);
        if (topK < -1 || topK == 0) {
            throw ApiException.badRequest("Field 'parameters.top_k' must be -1 (no limit) or at least 1, got " + topK);
        }
        int maxTokens = integer(p, "max_tokens", 256);
        if (maxTokens < 1) {
            throw ApiException.badRequest("Field 'parameters.max_tokens' must be at least 1, got " + maxTokens);
        }
        if (maxTokens > maxContextTokens) {
            // the model's own context, which bounds it too, is known once the model is found
            throw ApiException.badRequest("Field 'parameters.max_tokens' must be at most the model's context (no model served"
                    + " here has more than " + maxContextTokens + " tokens), got " + maxTokens);
        }
        Long seed = null;
        if (p.hasNonNull("seed")) {
            JsonNode v = p.get("seed");
            if (!v.isIntegralNumber() || !v.canConvertToLong()) {
                throw ApiException.badRequest("Field 'parameters.seed' must be a whole number"
                        + (v.isIntegralNumber() ? " from " + Long.MIN_VALUE + " to " + Long.MAX_VALUE : "") + ", got " + sent(v));
            }
            seed = p.get("seed").asLong();
        }
        JsonNode stream = body.get("stream");
        if (stream != null && !stream.isNull() && !stream.isBoolean()) {
            throw ApiException.badRequest("Field 'stream' must be true or false");
        }
        return new InferenceRequest(modelId, input, new Parameters(temperature, maxTokens, topP, topK, seed),
                stream != null && stream.asBoolean());
    }

    private static void unknown(JsonNode node, Set<String> known, String prefix) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext();) {
            String name = it.next();
            if (!known.contains(name)) {
                throw ApiException.badRequest("Unknown field '" + prefix + name + "'; expected "
                        + String.join(", ", known.stream().sorted().toList()));
            }
        }
    }

    private static String text(JsonNode node, String name, String path) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            throw ApiException.badRequest("Field '" + path + "' is required");
        }
        if (!v.isTextual()) {
            throw ApiException.badRequest("Field '" + path + "' must be a string");
        }
        if (v.asText().isBlank()) {
            throw ApiException.badRequest("Field '" + path + "' must not be empty");
        }
        return v.asText();
    }

    private static double number(JsonNode node, String name, double fallback) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isNumber()) {
            throw ApiException.badRequest("Field 'parameters." + name + "' must be a number, got " + sent(v));
        }
        return v.asDouble();
    }

    private static int integer(JsonNode node, String name, int fallback) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw ApiException.badRequest("Field 'parameters." + name + "' must be a whole number"
                    + (v.isIntegralNumber() ? " from " + Integer.MIN_VALUE + " to " + Integer.MAX_VALUE : "") + ", got " + sent(v));
        }
        return v.asInt();
    }

    /** A value sent, as a message says it back: a text quoted (cut short), an object or array by its kind. */
    public static String sent(JsonNode v) {
        if (v.isTextual()) {
            return ErrorMappers.quoted(v.asText());
        }
        return v.isArray() ? "an array" : v.isObject() ? "an object" : v.toString();
    }
}
