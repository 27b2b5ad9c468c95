package dev.mlinfra.engine.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * One dataset record (a resolved GitOps issue). The JSON object is kept whole, so fields this
 * engine does not use survive.
 *
 * @param json the record as read
 */
public record IssueRecord(ObjectNode json) {

    /** Issue types the model predicts. */
    public static final List<String> ISSUE_TYPES = List.of("bug", "feature", "question");

    private static final Pattern NUMBERING = Pattern.compile("^\\s*(?:\\d+[.)]|[-*\u2022])\\s+");
    private static final Pattern SENTENCE_END = Pattern.compile("(?<=[.!?])\\s+(?=[A-Z0-9`])");

    public String repository() {
        return json.path("repository").asText("");
    }

    public String title() {
        return json.path("issue_title").asText("");
    }

    public String description() {
        return json.path("issue_description").asText("");
    }

    public String issueType() {
        return json.path("issue_type").asText("").trim().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * The resolution as steps: the {@code trajectory} array when present, else the
     * {@code resolution} text split into its numbered/bulleted lines, or into sentences when it is
     * a single paragraph.
     */
    public List<String> steps() {
        List<String> steps = new ArrayList<>();
        JsonNode trajectory = json.get("trajectory");
        if (trajectory != null && trajectory.isArray() && !trajectory.isEmpty()) {
            for (JsonNode step : trajectory) {
                String s = step.isTextual() ? step.asText() : step.toString();
                s = NUMBERING.matcher(s.strip()).replaceFirst("").strip();
                if (!s.isEmpty()) {
                    steps.add(s);
                }
            }
            return steps;
        }
        return splitSteps(json.path("resolution").asText(""));
    }

    /** Splits free text into steps (lines, else sentences), dropping numbering and bullets. */
    public static List<String> splitSteps(String text) {
        List<String> steps = new ArrayList<>();
        String[] lines = text.strip().split("\\R+");
        if (lines.length == 1) {
            lines = SENTENCE_END.split(lines[0]);
        }
        for (String line : lines) {
            String s = NUMBERING.matcher(line.strip()).replaceFirst("").strip();
            if (!s.isEmpty()) {
                steps.add(s);
            }
        }
        return steps;
    }

    /** Why this record cannot be used for training, or null when it can. */
    public String problem() {
        if (repository().isBlank()) {
            return "missing repository";
        }
        if (title().isBlank()) {
            return "missing issue_title";
        }
        if (!ISSUE_TYPES.contains(issueType())) {
            return "issue_type must be one of " + ISSUE_TYPES + ", got '" + json.path("issue_type").asText() + "'";
        }
        if (steps().isEmpty()) {
            return "missing resolution and trajectory";
        }
        return null;
    }
}
