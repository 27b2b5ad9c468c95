package dev.mlinfra.engine.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlinfra.engine.artifact.ArtifactStore;
import dev.mlinfra.engine.artifact.S3Settings;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@value #FILE}: the prompt format a model was trained with, recorded next to its weights so
 * that serving renders a user's input exactly as training did, without a copy of the format of
 * its own:
 *
 * <pre>
 * {"format": "mlinfra-prompt-v1",
 *  "template": "&lt;|begin_of_text|&gt;...Repository: {repository}\nTitle: {issue_title}\n...",
 *  "fields": ["repository", "issue_title", "issue_description"],
 *  "stop": ["&lt;|eot|&gt;"]}
 * </pre>
 *
 * <p>Rendering: every {@code {field}} in {@code template} (for a name in {@code fields}) is
 * replaced by that field's value in one left-to-right pass; values are inserted as they are and
 * never searched for placeholders themselves, and any other brace is plain text. The result is
 * prompt text with special tokens spelled out (what {@code /v1/completions} takes); {@code stop}
 * lists what ends the answer the model was trained to give. As with {@link PromptTemplate#promptText},
 * a value that spells a special token becomes that token when the text is encoded with specials,
 * whereas training encodes field values as plain bytes.
 *
 * @param format   {@value #FORMAT}
 * @param template prompt text with a {@code {name}} placeholder per field
 * @param fields   the fields a prompt is made of
 * @param stop     strings that end an answer
 */
public record PromptTemplateFile(String format, String template, List<String> fields, List<String> stop) {

    /** Name of the file in an artifact folder ({@code adapter/}, {@code model/}, {@code checkpoints/step-N/}). */
    public static final String FILE = "prompt_template.json";
    /** The format this class writes and reads. */
    public static final String FORMAT = "mlinfra-prompt-v1";

    private static final Pattern FIELD_NAME = Pattern.compile("[a-z][a-z0-9_]*");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public PromptTemplateFile {
        if (!FORMAT.equals(format)) {
            throw new IllegalArgumentException("prompt template format must be " + FORMAT + ", got " + format);
        }
        if (template == null) {
            throw new IllegalArgumentException("prompt template has no template");
        }
        fields = List.copyOf(fields);
        stop = List.copyOf(stop);
        Set<String> seen = new HashSet<>();
        for (String f : fields) {
            if (!FIELD_NAME.matcher(f).matches() || !seen.add(f)) {
                throw new IllegalArgumentException("prompt template fields must be distinct names matching "
                        + FIELD_NAME.pattern() + ", got " + fields);
            }
        }
    }

    /** The template of {@link PromptTemplate}, the one prompt format training uses. */
    public static PromptTemplateFile current() {
        return new PromptTemplateFile(FORMAT, PromptTemplate.TEMPLATE, PromptTemplate.FIELDS, PromptTemplate.STOP);
    }

    /**
     * The prompt for the given field values: each {@code {field}} placeholder of the template
     * replaced by its value in one left-to-right pass (a value holding a placeholder stays as it
     * is). Keys that are not fields are ignored.
     *
     * @throws IllegalArgumentException naming a field of the template that has no value
     */
    public String render(Map<String, String> values) {
        StringBuilder out = new StringBuilder(template.length() + 256);
        int i = 0;
        while (i < template.length()) {
            String field = fieldAt(i);
            if (field == null) {
                out.append(template.charAt(i++));
                continue;
            }
            String value = values.get(field);
            if (value == null) {
                throw new IllegalArgumentException("no value for prompt field " + field);
            }
            out.append(value);
            i += PromptTemplate.placeholder(field).length();
        }
        return out.toString();
    }

    /** The field whose placeholder starts at {@code index} of the template, or null. */
    private String fieldAt(int index) {
        if (template.charAt(index) != '{') {
            return null;
        }
        for (String f : fields) {
            if (template.startsWith(PromptTemplate.placeholder(f), index)) {
                return f;
            }
        }
        return null;
    }

    /** The file's contents (UTF-8 JSON, snake_case keys). */
    public byte[] toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("format", format);
        n.put("template", template);
        fields.forEach(n.putArray("fields")::add);
        stop.forEach(n.putArray("stop")::add);
        try {
            return JSON.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Reads the file's contents; keys it does not know are ignored.
     *
     * @throws IOException when it is not JSON, or not a template of format {@value #FORMAT}
     */
    public static PromptTemplateFile parse(byte[] json) throws IOException {
        JsonNode n = JSON.readTree(json);
        if (n == null || !n.isObject()) {
            throw new IOException(FILE + " is not a JSON object");
        }
        JsonNode template = n.get("template");
        if (template == null || !template.isTextual()) {
            throw new IOException(FILE + " has no string template");
        }
        try {
            return new PromptTemplateFile(n.path("format").asText(null), template.asText(), strings(n, "fields"),
                    strings(n, "stop"));
        } catch (IllegalArgumentException e) {
            throw new IOException(FILE + ": " + e.getMessage(), e);
        }
    }

    private static List<String> strings(JsonNode n, String key) throws IOException {
        JsonNode array = n.get(key);
        if (array == null || !array.isArray()) {
            throw new IOException(FILE + " has no " + key + " array");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode s : array) {
            if (!s.isTextual()) {
                throw new IOException(FILE + ": " + key + " must hold strings");
            }
            out.add(s.asText());
        }
        return out;
    }

    /** Writes the template of {@link PromptTemplate} into a folder ({@code ""} or ending with '/'). */
    public static void write(ArtifactStore store, String folder) throws IOException {
        store.put(folder + FILE, current().toJson());
    }

    /**
     * The template recorded in a folder of an artifact store ({@code "adapter/"}, {@code "model/"},
     * {@code ""} for the store's root), or null when the folder has no {@value #FILE} (artifacts
     * written before it was recorded).
     */
    public static PromptTemplateFile read(ArtifactStore store, String folder) throws IOException {
        String dir = folder.isEmpty() || folder.endsWith("/") ? folder : folder + "/";
        byte[] json = store.get(dir + FILE);
        return json == null ? null : parse(json);
    }

    /**
     * The template recorded in a folder given by its location: a local directory or
     * {@code s3://bucket/prefix} (with {@code s3} settings, or those of the environment when
     * null); null when it has no {@value #FILE}.
     */
    public static PromptTemplateFile read(String folderLocation, S3Settings s3) throws IOException {
        return read(ArtifactStore.open(folderLocation, s3), "");
    }
}
