package dev.mlinfra.engine.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * One dataset record (a resolved GitOps issue). The JSON object is kept whole, so fields this
 * engine does not use survive. (Training streams its dataset into {@link CompactRecord}s instead;
 * see {@link DatasetReader#sample}.)
 *
 * @param json the record as read
 */
public record IssueRecord(ObjectNode json) implements Issue {

    private static final Pattern NUMBERING = Pattern.compile("^\\s*(?:\\d+[.)]|[-*\u2022])\\s+");
    private static final Pattern SENTENCE_END = Pattern.compile("(?<=[.!?])\\s+(?=[A-Z0-9`])");

    @Override
    public String repository() {
        return json.path("repository").asText("");
    }

    @Override
    public String title() {
        return json.path("issue_title").asText("");
    }

    @Override
    public String description() {
        return json.path("issue_description").asText("");
    }

    @Override
    public String issueType() {
        return Issue.normalizeType(json.path("issue_type").asText(""));
    }

    /**
     * The resolution as steps: the {@code trajectory} array when present, else the
     * {@code resolution} text split into its numbered/bulleted lines, or into sentences when it is
     * a single paragraph.
     */
    @Override
    public List<String> steps() {
        List<String> steps = new ArrayList<>();
        JsonNode trajectory = json.get("trajectory");
        if (trajectory != null && trajectory.isArray() && !trajectory.isEmpty()) {
            for (JsonNode step : trajectory) {
                String s = trajectoryStep(step.isTextual() ? step.asText() : step.toString());
                if (!s.isEmpty()) {
                    steps.add(s);
                }
            }
            return steps;
        }
        return splitSteps(json.path("resolution").asText(""));
    }

    /** One {@code trajectory} entry as a step: without numbering or bullet, stripped ({@code ""} when blank). */
    static String trajectoryStep(String entry) {
        return NUMBERING.matcher(entry.strip()).replaceFirst("").strip();
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

    /** Why this record cannot be used for training (one of {@link Issue}'s reasons), or null when it can. */
    public String problem() {
        return Issue.problem(repository(), title(), issueType(), !steps().isEmpty());
    }
}
