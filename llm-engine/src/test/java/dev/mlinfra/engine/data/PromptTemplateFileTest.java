package dev.mlinfra.engine.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.engine.artifact.LocalArtifactStore;
import dev.mlinfra.engine.tokenizer.ByteTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromptTemplateFileTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final PromptTemplateFile CURRENT = PromptTemplateFile.current();
    // Braces, placeholders of every field, regex replacement syntax, special-token spellings, multi-byte text.
    private static final String[] PIECES = {"a", " ", "\n", "{", "}", "{}", "{repository}", "{issue_title}",
            "{issue_description}", "{{issue_title}}", "{unknown}", "$1", "\\", "<|eot|>", "\u00e9", "\ud83d\ude00"};

    private static Map<String, String> fields(String repository, String title, String description) {
        return Map.of("repository", repository, "issue_title", title, "issue_description", description);
    }

    private static String text(Random rnd) {
        StringBuilder sb = new StringBuilder();
        int n = rnd.nextInt(8);
        for (int i = 0; i < n; i++) {
            sb.append(PIECES[rnd.nextInt(PIECES.length)]);
        }
        return sb.toString();
    }

    @Test
    void renderingTheRecordedTemplateGivesThePromptTrainingBuilds() {
        assertEquals(PromptTemplate.promptText("acme/infra", "Pods crash-loop after upgrade", "kubectl shows OOMKilled"),
                CURRENT.render(fields("acme/infra", "Pods crash-loop after upgrade", "kubectl shows OOMKilled")));
        assertEquals(PromptTemplate.promptText("", "", ""), CURRENT.render(fields("", "", "")));
        Random rnd = new Random(5);
        for (int i = 0; i < 500; i++) {
            String repository = text(rnd);
            String title = text(rnd);
            String description = text(rnd);
            assertEquals(PromptTemplate.promptText(repository, title, description),
                    CURRENT.render(fields(repository, title, description)), repository + " | " + title + " | " + description);
        }
    }

    @Test
    void aValueHoldingAPlaceholderIsInsertedAsItIs() {
        String prompt = CURRENT.render(fields("{issue_title}", "{issue_description}", "${repository} {x}"));
        assertTrue(prompt.contains("Repository: {issue_title}\nTitle: {issue_description}\nDescription: ${repository} {x}"
                + ByteTokenizer.EOT), prompt);
        assertEquals(PromptTemplate.promptText("{issue_title}", "{issue_description}", "${repository} {x}"), prompt);
    }

    @Test
    void theTemplateIsThePromptWithOnePlaceholderPerFieldAndTheAnswerEndsWithItsStop() {
        assertEquals(PromptTemplate.promptText("{repository}", "{issue_title}", "{issue_description}"), CURRENT.template());
        assertEquals(List.of("repository", "issue_title", "issue_description"), CURRENT.fields());
        for (String field : CURRENT.fields()) {
            String placeholder = "{" + field + "}";
            int at = CURRENT.template().indexOf(placeholder);
            assertTrue(at >= 0 && CURRENT.template().indexOf(placeholder, at + 1) < 0, field);
        }
        // The stop is a special token of the tokenizer and the last token of every training target.
        assertEquals(List.of("<|eot|>"), CURRENT.stop());
        ByteTokenizer tokenizer = new ByteTokenizer();
        Issue issue = new CompactRecord("acme/infra", "t", "d", "bug", List.of("restart it"));
        int[] target = new PromptTemplate(tokenizer).targetIds(issue);
        assertEquals(tokenizer.specialId(CURRENT.stop().get(0)), target[target.length - 1]);
    }

    @Test
    void theFileIsSnakeCaseJsonThatReadsBackToTheSameTemplate() throws IOException {
        JsonNode n = JSON.readTree(CURRENT.toJson());
        assertEquals(List.of("format", "template", "fields", "stop"), List.copyOf(iterable(n.fieldNames())));
        assertEquals("mlinfra-prompt-v1", n.get("format").asText());
        assertEquals(CURRENT.template(), n.get("template").asText());
        assertEquals(CURRENT, PromptTemplateFile.parse(CURRENT.toJson()));
    }

    @Test
    void anyTemplateFollowsTheOnePassRule() throws IOException {
        PromptTemplateFile file = PromptTemplateFile.parse("""
                {"format": "mlinfra-prompt-v1", "template": "Q: {question} {{question}} {other} {question",
                 "fields": ["question"], "stop": [], "note": "unknown keys are ignored"}
                """.getBytes(StandardCharsets.UTF_8));
        // A placeholder is replaced wherever it stands; other braces, unknown names and keys are left alone.
        assertEquals("Q: a {a} {other} {question", file.render(Map.of("question", "a", "unused", "x")));
        assertEquals("Q: {question} {{question}} {other} {question",
                file.render(Map.of("question", "{question}")));
    }

    @Test
    void aMissingFieldIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CURRENT.render(Map.of("repository", "r", "issue_title", "t")));
        assertTrue(e.getMessage().contains("issue_description"), e.getMessage());
    }

    @Test
    void aFileOfAnotherFormatOrWithoutATemplateIsRejected() {
        for (String json : List.of(
                "{\"format\": \"mlinfra-prompt-v2\", \"template\": \"x\", \"fields\": [], \"stop\": []}",
                "{\"format\": \"mlinfra-prompt-v1\", \"fields\": [], \"stop\": []}",
                "{\"format\": \"mlinfra-prompt-v1\", \"template\": \"x\", \"fields\": [\"a\", \"a\"], \"stop\": []}",
                "[]")) {
            assertThrows(IOException.class, () -> PromptTemplateFile.parse(json.getBytes(StandardCharsets.UTF_8)), json);
        }
    }

    @Test
    void theTemplateIsReadFromAFolderOfAnArtifactStore(@TempDir Path dir) throws IOException {
        LocalArtifactStore store = new LocalArtifactStore(dir);
        assertNull(PromptTemplateFile.read(store, "adapter/"));
        PromptTemplateFile.write(store, "adapter/");
        assertTrue(Files.isRegularFile(dir.resolve("adapter/prompt_template.json")));
        assertEquals(CURRENT, PromptTemplateFile.read(store, "adapter/"));
        assertEquals(CURRENT, PromptTemplateFile.read(store, "adapter"));
        assertEquals(CURRENT, PromptTemplateFile.read(dir.resolve("adapter").toString(), null));
    }

    private static <T> List<T> iterable(java.util.Iterator<T> it) {
        List<T> out = new java.util.ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
