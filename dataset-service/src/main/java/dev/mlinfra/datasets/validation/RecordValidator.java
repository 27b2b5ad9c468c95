package dev.mlinfra.datasets.validation;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

/**
 * The schema of one dataset record (see the service README): required {@code repository},
 * {@code issue_title}, {@code issue_description}, {@code issue_type}, {@code created_at}, and at
 * least one of {@code resolution} or {@code trajectory}; optional {@code issue_number},
 * {@code labels}, {@code url}. Unknown fields are kept and not checked.
 *
 * <p>Records are checked straight from the parser's tokens, without building a tree: only the
 * short values the statistics need become strings, long texts are only checked for content.
 * Every string is still decoded, so bytes that are not UTF-8 and strings over the parser's
 * length limit are found wherever they are. One instance reads the records of one file, one
 * after another.
 */
public final class RecordValidator {


    /** What a valid record contributes to the statistics. */
    public record Valid(String repository, String issueType, LocalDate date) {
    }

    /** Either the record's contribution or its errors. */
    public record Outcome(Valid valid, List<RecordError> errors) {
    }

    private final Value repository = new Value(true);
    private final Value title = new Value(false);
    private final Value description = new Value(false);
    private final Value type = new Value(true);
    private final Value createdAt = new Value(true);
    private final Value resolution = new Value(false);
    private final Value trajectory = new Value(false);
    private final Value issueNumber = new Value(false);
    private final Value labels = new Value(false);
    private final Value url = new Value(true);
    private final Value[] known = {repository, title, description, type, createdAt, resolution, trajectory, issueNumber, labels, url};
    private String field;

    /** The top-level field being read, or null between fields (names the field of a parser error). */
    public String field() {
        return field;
    }

    /** Reads the record whose first token is the parser's current one, up to its last token, and checks it. */
    public Outcome read(JsonParser parser, long number) throws IOException {
        field = null;
        if (parser.currentToken() != JsonToken.START_OBJECT) {
            String kind = kind(parser);
            skip(parser);
            return new Outcome(null, List.of(new RecordError(number, null, "expected a JSON object, got " + kind)));
        }
        for (Value v : known) {
            v.clear();
        }
        JsonToken t;
        while ((t = parser.nextToken()) == JsonToken.FIELD_NAME) {
            field = parser.currentName();
            parser.nextToken();
            Value target = switch (field) {
                case "repository" -> repository;
                case "issue_title" -> title;
                case "issue_description" -> description;
                case "issue_type" -> type;
                case "created_at" -> createdAt;
                case "resolution" -> resolution;
                case "trajectory" -> trajectory;
                case "issue_number" -> issueNumber;
                case "labels" -> labels;
                case "url" -> url;
                default -> null;
            };
            if (target == null) {
                skip(parser);
            } else {
                target.read(parser);
            }
        }
        if (t != JsonToken.END_OBJECT) {
            throw new JsonParseException(parser, "unexpected token " + t + " in a record");
        }
        field = null;
        return check(number);
    }

    private Outcome check(long number) {
        List<RecordError> errors = new ArrayList<>(0);
        if (requiredText(number, repository, "repository", errors) && !isRepository(repository.text)) {
            errors.add(new RecordError(number, "repository", "expected \"owner/name\", got \"" + clip(repository.text) + "\""));
        }
        if (requiredText(number, title, "issue_title", errors) && title.blank) {
            errors.add(new RecordError(number, "issue_title", "must not be empty"));
        }
        requiredText(number, description, "issue_description", errors);
        if (requiredText(number, type, "issue_type", errors) && !isIssueType(type.text)) {
            errors.add(new RecordError(number, "issue_type",
                    "expected a lowercase label such as bug, feature or question, got \"" + clip(type.text) + "\""));
        }
        LocalDate date = null;
        if (requiredText(number, createdAt, "created_at", errors)) {
            date = Rfc3339.utcDate(createdAt.text);
            if (date == null) {
                errors.add(new RecordError(number, "created_at",
                        "expected an RFC 3339 date or date-time (2024-03-17 or 2024-03-17T09:12:44Z), got \"" + clip(createdAt.text) + "\""));
            }
        }
        int before = errors.size();
        boolean hasResolution = checkResolution(number, errors);
        boolean hasTrajectory = checkTrajectory(number, errors);
        if (!hasResolution && !hasTrajectory && errors.size() == before) {
            errors.add(new RecordError(number, "resolution",
                    "missing: a record needs 'resolution' (text) or 'trajectory' (array of steps), or both"));
        }
        checkOptional(number, errors);
        return errors.isEmpty() ? new Outcome(new Valid(repository.text, type.text, date), List.of()) : new Outcome(null, errors);
    }

    private boolean checkResolution(long number, List<RecordError> errors) {
        if (resolution.absent()) {
            return false;
        }
        if (resolution.token != JsonToken.VALUE_STRING) {
            errors.add(new RecordError(number, "resolution", "expected a string, got " + resolution.kind));
            return false;
        }
        if (resolution.blank) {
            errors.add(new RecordError(number, "resolution", "must not be empty"));
            return false;
        }
        return true;
    }

    private boolean checkTrajectory(long number, List<RecordError> errors) {
        if (trajectory.absent()) {
            return false;
        }
        if (trajectory.token != JsonToken.START_ARRAY) {
            errors.add(new RecordError(number, "trajectory", "expected an array of step strings, got " + trajectory.kind));
            return false;
        }
        if (trajectory.size == 0) {
            errors.add(new RecordError(number, "trajectory", "must hold at least one step"));
            return false;
        }
        int bad = trajectory.firstNonString < 0 ? trajectory.firstBlank
                : trajectory.firstBlank < 0 ? trajectory.firstNonString : Math.min(trajectory.firstNonString, trajectory.firstBlank);
        if (bad >= 0) {
            String kind = bad == trajectory.firstNonString ? trajectory.firstNonStringKind : "a string";
            errors.add(new RecordError(number, "trajectory[" + bad + "]", "expected a non-empty string, got " + kind));
            return false;
        }
        return true;
    }

    private void checkOptional(long number, List<RecordError> errors) {
        if (!issueNumber.absent() && !issueNumber.positiveLong) {
            errors.add(new RecordError(number, "issue_number", "expected a positive integer, got " + issueNumber.kind));
        }
        if (!labels.absent()) {
            if (labels.token != JsonToken.START_ARRAY) {
                errors.add(new RecordError(number, "labels", "expected an array of strings, got " + labels.kind));
            } else if (labels.firstNonString >= 0) {
                errors.add(new RecordError(number, "labels[" + labels.firstNonString + "]", "expected a string, got "
                        + labels.firstNonStringKind));
            }
        }
        if (!url.absent() && !(url.token == JsonToken.VALUE_STRING
                && (url.text.startsWith("https://") || url.text.startsWith("http://")))) {
            errors.add(new RecordError(number, "url", "expected an http(s) URL, got " + url.kind));
        }
    }

    private static boolean requiredText(long number, Value value, String name, List<RecordError> errors) {
        if (value.absent()) {
            errors.add(new RecordError(number, name, "missing required field"));
            return false;
        }
        if (value.token != JsonToken.VALUE_STRING) {
            errors.add(new RecordError(number, name, "expected a string, got " + value.kind));
            return false;
        }
        return true;
    }

    /** Skips the value at the parser's current token, decoding every string in it. */
    private static void skip(JsonParser parser) throws IOException {
        JsonToken t = parser.currentToken();
        if (t == JsonToken.VALUE_STRING) {
            parser.getTextLength();
            return;
        }
        if (t == null || !t.isStructStart()) {
            return;
        }
        int depth = 1;
        while (depth > 0) {
            t = parser.nextToken();
            if (t == null) {
                throw new JsonParseException(parser, "unexpected end of input inside a value");
            }
            if (t.isStructStart()) {
                depth++;
            } else if (t.isStructEnd()) {
                depth--;
            } else if (t == JsonToken.VALUE_STRING) {
                parser.getTextLength();
            }
        }
    }

    /** How an error message describes the value at the parser's current token. */
    private static String kind(JsonParser parser) throws IOException {
        JsonToken t = parser.currentToken();
        return switch (t) {
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number (" + clip(parser.getText()) + ")";
            case VALUE_TRUE -> "true";
            case VALUE_FALSE -> "false";
            case START_ARRAY -> "an array";
            case START_OBJECT -> "an object";
            case VALUE_NULL -> "null";
            default -> t.name().toLowerCase();
        };
    }

    /** {@code owner/name}, each part of letters, digits, {@code _ . -} (the pattern {@code [A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+}). */
    static boolean isRepository(String s) {
        int slash = s.indexOf('/');
        if (slash <= 0 || slash == s.length() - 1) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (i != slash && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '_' || c == '.' || c == '-')) {
                return false;
            }
        }
        return true;
    }

    /** A lowercase label: a letter, then up to 31 letters, digits, {@code _} or {@code -}. */
    static boolean isIssueType(String s) {
        if (s.isEmpty() || s.length() > 32 || s.charAt(0) < 'a' || s.charAt(0) > 'z') {
            return false;
        }
        for (int i = 1; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
                return false;
            }
        }
        return true;
    }

    private static boolean isBlank(char[] chars, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            if (!Character.isWhitespace(chars[i])) {
                return false;
            }
        }
        return true;
    }

    private static String clip(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    /**
     * What the checks need to know of one field's value; {@code keepText} for the short strings
     * that are matched or counted (the long texts are only checked for content).
     */
    private static final class Value {
        final boolean keepText;
        JsonToken token;
        String kind;
        String text;
        boolean blank;
        boolean positiveLong;
        int size;
        int firstNonString;
        String firstNonStringKind;
        int firstBlank;

        Value(boolean keepText) {
            this.keepText = keepText;
        }

        void clear() {
            token = null;
            text = null;
        }

        /** Absent, or present as {@code null}: both count as missing. */
        boolean absent() {
            return token == null || token == JsonToken.VALUE_NULL;
        }

        void read(JsonParser parser) throws IOException {
            token = parser.currentToken();
            kind = kind(parser);
            text = null;
            blank = false;
            positiveLong = false;
            size = 0;
            firstNonString = -1;
            firstNonStringKind = null;
            firstBlank = -1;
            switch (token) {
                case VALUE_STRING -> {
                    if (keepText) {
                        text = parser.getText();
                        blank = text.isBlank();
                    } else {
                        blank = isBlank(parser.getTextCharacters(), parser.getTextOffset(), parser.getTextLength());
                    }
                }
                case VALUE_NUMBER_INT -> positiveLong = parser.getNumberType() != JsonParser.NumberType.BIG_INTEGER
                        && parser.getLongValue() > 0;
                case START_ARRAY -> readArray(parser);
                case START_OBJECT -> skip(parser);
                default -> {
                }
            }
        }

        private void readArray(JsonParser parser) throws IOException {
            JsonToken t;
            while ((t = parser.nextToken()) != JsonToken.END_ARRAY) {
                if (t == null) {
                    throw new JsonParseException(parser, "unexpected end of input inside an array");
                }
                if (t == JsonToken.VALUE_STRING) {
                    if (firstBlank < 0 && isBlank(parser.getTextCharacters(), parser.getTextOffset(), parser.getTextLength())) {
                        firstBlank = size;
                    }
                } else {
                    if (firstNonString < 0) {
                        firstNonString = size;
                        firstNonStringKind = kind(parser);
                    }
                    skip(parser);
                }
                size++;
            }
        }
    }
}
