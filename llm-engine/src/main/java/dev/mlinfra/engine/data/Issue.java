package dev.mlinfra.engine.data;

import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * What training, evaluation and the prompt template read of a dataset record: a whole record as
 * read ({@link IssueRecord}) or the part of it that training can use ({@link CompactRecord}).
 *
 * <p>The issue type is the label the model learns. Labels come from the data: any
 * {@code issue_type} that, trimmed and lower-cased, matches {@code [a-z][a-z0-9_-]*} and has at
 * most {@value #MAX_LABEL_LENGTH} characters (the rule dataset-service validates uploads with) is
 * one.
 */
public interface Issue {

    /** Longest issue type, in characters (as dataset-service accepts). */
    int MAX_LABEL_LENGTH = 32;

    /** Reason a record is left out: no repository. */
    String MISSING_REPOSITORY = "missing repository";
    /** Reason a record is left out: no title. */
    String MISSING_TITLE = "missing issue_title";
    /** Reason a record is left out: no issue type. */
    String MISSING_TYPE = "issue_type is missing";
    /** Reason a record is left out: an issue type that is not a label. */
    String INVALID_TYPE = "issue_type is not a label ([a-z][a-z0-9_-]*, at most " + MAX_LABEL_LENGTH + " characters)";
    /** Reason a record is left out: nothing to learn as the answer. */
    String MISSING_STEPS = "missing resolution and trajectory";

    String repository();

    String title();

    String description();

    /** The issue type, trimmed and lower-cased ({@code ""} when absent). */
    String issueType();

    /** The resolution as steps. */
    List<String> steps();

    /** True when {@code type} can be a label: {@code [a-z][a-z0-9_-]*}, at most {@value #MAX_LABEL_LENGTH} characters. */
    static boolean isLabel(String type) {
        if (type == null || type.isEmpty() || type.length() > MAX_LABEL_LENGTH) {
            return false;
        }
        char first = type.charAt(0);
        if (first < 'a' || first > 'z') {
            return false;
        }
        for (int i = 1; i < type.length(); i++) {
            char c = type.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
                return false;
            }
        }
        return true;
    }

    /** An {@code issue_type} value as records are compared: trimmed and lower-cased. */
    static String normalizeType(String raw) {
        return raw.trim().toLowerCase(Locale.ROOT);
    }

    /** The label set of some records: their issue types, distinct and sorted. */
    static List<String> labels(Collection<? extends Issue> records) {
        TreeSet<String> labels = new TreeSet<>();
        for (Issue r : records) {
            labels.add(r.issueType());
        }
        return List.copyOf(labels);
    }

    /**
     * Why a record with these fields cannot be trained on, or null when it can. The reasons are the
     * constants of this interface, so that they can be counted.
     */
    static String problem(String repository, String title, String issueType, boolean hasSteps) {
        if (repository.isBlank()) {
            return MISSING_REPOSITORY;
        }
        if (title.isBlank()) {
            return MISSING_TITLE;
        }
        if (issueType.isEmpty()) {
            return MISSING_TYPE;
        }
        if (!isLabel(issueType)) {
            return INVALID_TYPE;
        }
        if (!hasSteps) {
            return MISSING_STEPS;
        }
        return null;
    }
}
