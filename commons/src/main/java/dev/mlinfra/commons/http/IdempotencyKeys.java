package dev.mlinfra.commons.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlinfra.commons.error.ApiException;
import jakarta.ws.rs.core.HttpHeaders;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The {@code Idempotency-Key} header of a request that creates something: a retry with the same
 * key and the same body gets what the first request created, the same key with another body a
 * 409. The endpoint stores the key and the body's {@link #fingerprint} with what it created.
 */
public final class IdempotencyKeys {

    public static final String HEADER = "Idempotency-Key";
    /** What the header means, for an endpoint's API document. */
    public static final String DESCRIPTION = "Any unique string (up to 255 printable characters); a retried request with"
            + " the same key and body returns what the first one created";
    private static final Pattern KEY = Pattern.compile("[\\x21-\\x7e]{1,255}");

    private IdempotencyKeys() {
    }

    /**
     * The request's key, or null where it has none. Read from the headers themselves: an empty
     * value reads as no header through {@code @HeaderParam}, and a retry with it would create again.
     */
    public static String of(HttpHeaders headers) {
        List<String> given = headers.getRequestHeader(HEADER);
        if (given != null && given.size() > 1) {
            // which one would a retry send? Each would find another, or create one
            throw ApiException.badRequest("Header '" + HEADER + "' is given " + given.size() + " times; give it once");
        }
        String key = given == null || given.isEmpty() ? null : given.get(0);
        if (key != null && !KEY.matcher(key).matches()) {
            throw ApiException.badRequest("Invalid header '" + HEADER + "': expected 1-255 printable characters without spaces");
        }
        return key;
    }

    /** The fingerprint of a request's body: the same body, its fields in any order and spacing, hashes alike. */
    public static String fingerprint(ObjectMapper json, Object body) {
        try {
            byte[] canonical = json.writeValueAsBytes(sorted(json.valueToTree(body)));
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonical));
        } catch (java.io.IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode sorted(JsonNode node) {
        if (node instanceof ObjectNode object) {
            TreeMap<String, JsonNode> fields = new TreeMap<>();
            object.properties().forEach(f -> fields.put(f.getKey(), sorted(f.getValue())));
            ObjectNode out = object.objectNode();
            fields.forEach(out::set);
            return out;
        }
        if (node instanceof ArrayNode array) {
            ArrayNode out = array.arrayNode();
            array.forEach(item -> out.add(sorted(item)));
            return out;
        }
        return node;
    }
}
