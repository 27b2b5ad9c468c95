package dev.mlinfra.datasets.validation;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The schema of one dataset record (see the service README): required {@code repository},
 * {@code issue_title}, {@code issue_description}, {@code issue_type}, {@code created_at}, and at
 * least one of {@code resolution} or {@code trajectory}; optional {@code issue_number},
 * {@code labels}, {@code url}. Unknown fields are kept and not checked.
 */
public final class RecordValidator {

    private static final Pattern REPOSITORY = Pattern.compile("[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+");
    private static final Pattern ISSUE_TYPE = Pattern.compile("[a-z][a-z0-9_-]{0,31}");

    /** What a valid record contributes to the statistics. */
    public record Valid(String repository, String issueType, LocalDate date) {
    }

    /** Either the record's contribution or its errors. */
    public record Outcome(Valid valid, List<RecordError> errors) {
    }

    private RecordValidator() {
    }

    public static Outcome validate(long number, JsonNode record) {
        List<RecordError> errors = new ArrayList<>();
        if (!record.isObject()) {
            errors.add(new RecordError(number, null, "expected a JSON object, got " + kind(record)));
            return new Outcome(null, errors);
        }
        String repository = requiredText(number, record, "repository", errors);
        if (repository != null && !REPOSITORY.matcher(repository).matches()) {
            errors.add(new RecordError(number, "repository", "expected \"owner/name\", got \"" + clip(repository) + "\""));
        }
        String title = requiredText(number, record, "issue_title", errors);
        if (title != null && title.isBlank()) {
            errors.add(new RecordError(number, "issue_title", "must not be empty"));
        }
        requiredText(number, record, "issue_description", errors);
        String type = requiredText(number, record, "issue_type", errors);
        if (type != null && !ISSUE_TYPE.matcher(type).matches()) {
            errors.add(new RecordError(number, "issue_type",
                    "expected a lowercase label such as bug, feature or question, got \"" + clip(type) + "\""));
        }
        LocalDate date = null;
        String createdAt = requiredText(number, record, "created_at", errors);
        if (createdAt != null) {
            date = parseDate(createdAt);
            if (date == null) {
                errors.add(new RecordError(number, "created_at",
                        "expected an RFC 3339 date or date-time (2024-03-17 or 2024-03-17T09:12:44Z), got \"" + clip(createdAt) + "\""));
            }
        }
        boolean hasResolution = checkResolution(number, record, errors);
        boolean hasTrajectory = checkTrajectory(number, record, errors);
        if (!hasResolution && !hasTrajectory && !record.has("resolution") && !record.has("trajectory")) {
            errors.add(new RecordError(number, "resolution",
                    "missing: a record needs 'resolution' (text) or 'trajectory' (array of steps), or both"));
        }
        checkOptional(number, record, errors);
        return errors.isEmpty() ? new Outcome(new Valid(repository, type, date), List.of()) : new Outcome(null, errors);
    }

    private static boolean checkResolution(long number, JsonNode record, List<RecordError> errors) {
        JsonNode resolution = record.get("resolution");
        if (resolution == null || resolution.isNull()) {
            return false;
        }
        if (!resolution.isTextual()) {
            errors.add(new RecordError(number, "resolution", "expected a string, got " + kind(resolution)));
            return false;
        }
        if (resolution.asText().isBlank()) {
            errors.add(new RecordError(number, "resolution", "must not be empty"));
            return false;
        }
        return true;
    }

    private static boolean checkTrajectory(long number, JsonNode record, List<RecordError> errors) {
        JsonNode trajectory = record.get("trajectory");
        if (trajectory == null || trajectory.isNull()) {
            return false;
        }
        if (!trajectory.isArray()) {
            errors.add(new RecordError(number, "trajectory", "expected an array of step strings, got " + kind(trajectory)));
            return false;
        }
        if (trajectory.isEmpty()) {
            errors.add(new RecordError(number, "trajectory", "must hold at least one step"));
            return false;
        }
        for (int i = 0; i < trajectory.size(); i++) {
            JsonNode step = trajectory.get(i);
            if (!step.isTextual() || step.asText().isBlank()) {
                errors.add(new RecordError(number, "trajectory[" + i + "]", "expected a non-empty string, got " + kind(step)));
                return false;
            }
        }
        return true;
    }

    private static void checkOptional(long number, JsonNode record, List<RecordError> errors) {
        JsonNode issueNumber = record.get("issue_number");
        if (issueNumber != null && !issueNumber.isNull() && !(issueNumber.canConvertToLong() && issueNumber.isIntegralNumber()
                && issueNumber.asLong() > 0)) {
            errors.add(new RecordError(number, "issue_number", "expected a positive integer, got " + kind(issueNumber)));
        }
        JsonNode labels = record.get("labels");
        if (labels != null && !labels.isNull()) {
            if (!labels.isArray()) {
                errors.add(new RecordError(number, "labels", "expected an array of strings, got " + kind(labels)));
            } else {
                for (int i = 0; i < labels.size(); i++) {
                    if (!labels.get(i).isTextual()) {
                        errors.add(new RecordError(number, "labels[" + i + "]", "expected a string, got " + kind(labels.get(i))));
                        break;
                    }
                }
            }
        }
        JsonNode url = record.get("url");
        if (url != null && !url.isNull() && !(url.isTextual()
                && (url.asText().startsWith("https://") || url.asText().startsWith("http://")))) {
            errors.add(new RecordError(number, "url", "expected an http(s) URL, got " + kind(url)));
        }
    }

    private static String requiredText(long number, JsonNode record, String field, List<RecordError> errors) {
        JsonNode value = record.get(field);
        if (value == null || value.isNull()) {
            errors.add(new RecordError(number, field, "missing required field"));
            return null;
        }
        if (!value.isTextual()) {
            errors.add(new RecordError(number, field, "expected a string, got " + kind(value)));
            return null;
        }
        return value.asText();
    }

    /** RFC 3339 full-date or date-time; the date is taken in UTC. */
    static LocalDate parseDate(String text) {
        try {
            if (text.length() == 10) {
                return LocalDate.parse(text);
            }
            return OffsetDateTime.parse(text.replace(' ', 'T')).withOffsetSameInstant(ZoneOffset.UTC).toLocalDate();
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private static String kind(JsonNode node) {
        return switch (node.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> "a number (" + node.asText() + ")";
            case BOOLEAN -> node.asText();
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NULL -> "null";
            default -> node.getNodeType().name().toLowerCase();
        };
    }

    private static String clip(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
