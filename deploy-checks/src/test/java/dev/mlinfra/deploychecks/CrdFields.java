package dev.mlinfra.deploychecks;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Field lists of the custom resources k8s/ uses, written from the operators' CRD references for
 * the versions k8s/README.md names (resources crd-fields/GROUP_VERSION_KIND.txt). A line is a
 * field path: {@code spec.kafka.listeners[].port}; {@code spec.kafka.config.*} admits any key
 * below (free-form maps).
 */
final class CrdFields {

    private CrdFields() {
    }

    static String resource(String apiVersion, String kind) {
        return "/crd-fields/" + apiVersion.replace('/', '_') + "_" + kind + ".txt";
    }

    static boolean knows(String apiVersion, String kind) {
        return CrdFields.class.getResource(resource(apiVersion, kind)) != null;
    }

    static Set<String> allowed(String apiVersion, String kind) {
        Set<String> allowed = new HashSet<>();
        for (String field : List.of("apiVersion", "kind", "metadata.name", "metadata.namespace", "metadata.labels.*",
                "metadata.annotations.*")) {
            add(allowed, field);
        }
        try (InputStream in = CrdFields.class.getResourceAsStream(resource(apiVersion, kind))) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String field = line.strip();
                if (!field.isEmpty() && !field.startsWith("#")) {
                    add(allowed, field);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return allowed;
    }

    /** Adds a path and every prefix of it (a list's items as {@code name[]}, the list itself as {@code name}). */
    private static void add(Set<String> allowed, String field) {
        StringBuilder prefix = new StringBuilder();
        for (String part : field.split("\\.")) {
            if (!prefix.isEmpty()) {
                prefix.append('.');
            }
            if (part.endsWith("[]")) {
                allowed.add(prefix + part.substring(0, part.length() - 2));
            }
            prefix.append(part);
            allowed.add(prefix.toString());
        }
    }

    /** Paths in {@code object} that the kind's field list does not have. */
    static List<String> unknownFields(String apiVersion, String kind, JsonNode object) {
        Set<String> allowed = allowed(apiVersion, kind);
        List<String> unknown = new ArrayList<>();
        walk(object, "", allowed, unknown);
        return unknown;
    }

    private static void walk(JsonNode node, String path, Set<String> allowed, List<String> unknown) {
        if (node.isArray()) {
            for (JsonNode item : node) {
                walk(item, path + "[]", allowed, unknown);
            }
            return;
        }
        if (!node.isObject()) {
            return;
        }
        if (allowed.contains(path + ".*") || allowed.contains(path + "[].*")) {
            return; // a free-form map
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> field = it.next();
            String child = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
            if (!allowed.contains(child)) {
                unknown.add(child);
                continue;
            }
            walk(field.getValue(), child, allowed, unknown);
        }
    }
}
