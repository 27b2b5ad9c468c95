package dev.mlinfra.engine.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Parses dataset files: JSON Lines or one JSON array of records. */
public final class DatasetReader {

    private static final ObjectMapper JSON = new ObjectMapper();

    private DatasetReader() {
    }

    /** The records and the reasons records were left out. */
    public record Dataset(List<IssueRecord> records, List<String> skipped) {
    }

    /**
     * Parses {@code bytes} in the given format ({@code jsonl}, {@code json}, or null/{@code auto}
     * to decide by the first non-blank character). Records that cannot be trained on are skipped
     * and reported, with their line or index.
     */
    public static Dataset parse(byte[] bytes, String format) throws IOException {
        String text = new String(bytes, StandardCharsets.UTF_8);
        String f = format == null ? "auto" : format.toLowerCase(Locale.ROOT);
        if (f.equals("auto")) {
            f = text.stripLeading().startsWith("[") ? "json" : "jsonl";
        }
        List<JsonNode> nodes = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        switch (f) {
            case "json" -> {
                JsonNode root = JSON.readTree(text);
                if (root == null || !root.isArray()) {
                    throw new IOException("a json dataset must be an array of records");
                }
                int i = 0;
                for (JsonNode n : root) {
                    nodes.add(n);
                    labels.add("record " + i++);
                }
            }
            case "jsonl" -> {
                String[] lines = text.split("\\R");
                for (int i = 0; i < lines.length; i++) {
                    if (lines[i].isBlank()) {
                        continue;
                    }
                    try {
                        nodes.add(JSON.readTree(lines[i]));
                    } catch (com.fasterxml.jackson.core.JacksonException e) {
                        throw new IOException("line " + (i + 1) + " is not valid JSON: " + e.getOriginalMessage());
                    }
                    labels.add("line " + (i + 1));
                }
            }
            default -> throw new IOException("unsupported dataset format '" + format + "' (expected jsonl or json)");
        }
        List<IssueRecord> records = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            JsonNode n = nodes.get(i);
            if (!n.isObject()) {
                skipped.add(labels.get(i) + ": not a JSON object");
                continue;
            }
            IssueRecord r = new IssueRecord((ObjectNode) n);
            String problem = r.problem();
            if (problem != null) {
                skipped.add(labels.get(i) + ": " + problem);
            } else {
                records.add(r);
            }
        }
        return new Dataset(records, skipped);
    }

    /** Splits records deterministically: a seeded shuffle, the first {@code validation} records validate. */
    public static Split split(List<IssueRecord> records, double validationFraction, long seed) {
        List<IssueRecord> shuffled = new ArrayList<>(records);
        java.util.Collections.shuffle(shuffled, new java.util.Random(seed));
        int n = shuffled.size();
        int validation = validationFraction <= 0 || n < 2 ? 0 : Math.max(1, (int) Math.round(n * validationFraction));
        validation = Math.min(validation, n - 1);
        return new Split(List.copyOf(shuffled.subList(validation, n)), List.copyOf(shuffled.subList(0, validation)));
    }

    /** Training and validation records. */
    public record Split(List<IssueRecord> train, List<IssueRecord> validation) {
    }
}
