package dev.mlinfra.inference.service;

import java.util.List;
import java.util.Map;

/**
 * The prompt a model version was trained with, as its trainer recorded it next to the adapter
 * ({@code prompt_template.json}, format {@code mlinfra-prompt-v1}): the prompt text with
 * {@code {field}} placeholders, and the texts that end an answer. Rendering replaces every
 * placeholder in one pass, left to right, so a value that itself contains {@code {issue_title}}
 * stays as it is.
 */
public record PromptTemplate(String template, List<String> fields, List<String> stop) {

    public static final String FILE = "prompt_template.json";
    public static final String FORMAT = "mlinfra-prompt-v1";

    /** The template in a deployment's stored JSON; an IllegalArgumentException says what is wrong with it. */
    public static PromptTemplate of(Map<String, Object> stored) {
        if (stored == null) {
            throw new IllegalArgumentException("no " + FILE);
        }
        if (!FORMAT.equals(stored.get("format"))) {
            throw new IllegalArgumentException(FILE + " has format " + stored.get("format") + ", expected " + FORMAT);
        }
        if (!(stored.get("template") instanceof String template) || template.isEmpty()) {
            throw new IllegalArgumentException(FILE + " has no template");
        }
        List<String> fields = strings(stored.get("fields"), "fields");
        for (String field : fields) {
            if (!InferenceRequest.INPUT.contains(field)) {
                throw new IllegalArgumentException(FILE + " asks for the field '" + field + "', which no request's input has"
                        + " (it has " + String.join(", ", new java.util.TreeSet<>(InferenceRequest.INPUT)) + ")");
            }
        }
        return new PromptTemplate(template, fields, strings(stored.get("stop"), "stop"));
    }

    /** A list of texts (absent: none). */
    private static List<String> strings(Object value, String name) {
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list) || list.stream().anyMatch(v -> !(v instanceof String))) {
            throw new IllegalArgumentException(FILE + " has '" + name + "' that is not a list of texts");
        }
        return list.stream().map(String.class::cast).toList();
    }

    /** The prompt for these field values; a field of the template without a value is an IllegalArgumentException. */
    public String render(Map<String, String> values) {
        StringBuilder out = new StringBuilder(template.length() + 256);
        int i = 0;
        while (i < template.length()) {
            int open = template.indexOf('{', i);
            if (open < 0) {
                out.append(template, i, template.length());
                break;
            }
            int close = template.indexOf('}', open);
            String name = close < 0 ? null : template.substring(open + 1, close);
            if (name != null && fields.contains(name)) {
                String value = values.get(name);
                if (value == null) {
                    throw new IllegalArgumentException("the prompt needs " + name);
                }
                out.append(template, i, open).append(value);
                i = close + 1;
            } else {
                out.append(template, i, open + 1);
                i = open + 1;
            }
        }
        return out.toString();
    }
}
