package dev.mlinfra.inference.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A stored prompt template is checked when its version deploys: one that a request's input could
 * not fill, or whose stop texts are not texts, fails the deployment with the reason instead of
 * failing every request.
 */
class PromptTemplateTest {

    private static Map<String, Object> stored(Object fields, Object stop) {
        return Map.of("format", PromptTemplate.FORMAT, "template", "Repository: {repository}\nTitle: {issue_title}\n",
                "fields", fields, "stop", stop);
    }

    @Test
    void aTemplateOfTheInputsFieldsRendersThem() {
        PromptTemplate template = PromptTemplate.of(stored(List.of("repository", "issue_title"), List.of("\n\n")));
        assertEquals("Repository: fluxcd/flux2\nTitle: {stuck}\n",
                template.render(Map.of("repository", "fluxcd/flux2", "issue_title", "{stuck}", "issue_description", "x")));
        assertEquals(List.of("\n\n"), template.stop());
    }

    @Test
    void aFieldNoInputHasIsRefusedNamingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PromptTemplate.of(stored(List.of("repository", "labels"), List.of())));
        assertTrue(e.getMessage().contains("'labels'"), e.getMessage());
    }

    @Test
    void stopTextsMustBeTexts() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PromptTemplate.of(stored(List.of("repository"), List.of(1))));
        assertTrue(e.getMessage().contains("'stop'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PromptTemplate.of(stored("repository", List.of())));
    }
}
