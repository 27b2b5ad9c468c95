package dev.mlinfra.engine.data;

import java.util.List;

/**
 * The part of a dataset record that training uses, cut to what a training example of a given
 * length can hold (see {@link PromptTemplate#fit}). Records kept in memory while a large dataset
 * streams by take this form, so that each costs at most about {@code max_seq_len} bytes of text.
 *
 * @param repository  the repository
 * @param title       the issue title
 * @param description the issue description
 * @param issueType   the label (trimmed, lower-cased)
 * @param steps       the resolution steps
 */
public record CompactRecord(String repository, String title, String description, String issueType, List<String> steps)
        implements Issue {

    public CompactRecord {
        steps = List.copyOf(steps);
    }
}
