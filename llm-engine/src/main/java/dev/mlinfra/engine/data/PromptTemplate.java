package dev.mlinfra.engine.data;

import dev.mlinfra.engine.tokenizer.ByteTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one prompt format shared by training, evaluation and serving (Llama 4 chat layout):
 *
 * <pre>
 * &lt;|begin_of_text|&gt;&lt;|header_start|&gt;user&lt;|header_end|&gt;\n\n
 * Repository: {repository}\nTitle: {issue_title}\nDescription: {issue_description}&lt;|eot|&gt;
 * &lt;|header_start|&gt;assistant&lt;|header_end|&gt;\n\n
 * </pre>
 *
 * followed, in training, by the target {@code Issue type: {type}\nResolution:\n1. {step}\n2. ...}
 * and {@code <|eot|>}.
 */
public final class PromptTemplate {

    private static final Pattern TYPE_LINE = Pattern.compile("(?im)^\\s*issue type:\\s*([a-z]+)");
    private static final Pattern STEP_LINE = Pattern.compile("^\\s*\\d+[.)]\\s+(.*)$");

    private final ByteTokenizer tokenizer;

    public PromptTemplate(ByteTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** The user message of an issue. */
    public static String userMessage(String repository, String title, String description) {
        return "Repository: " + repository + "\nTitle: " + title + "\nDescription: " + description;
    }

    /** The full prompt as text, special tokens spelled out (what {@code /v1/completions} takes). */
    public static String promptText(String repository, String title, String description) {
        List<String[]> messages = new ArrayList<>();
        messages.add(new String[] {"user", userMessage(repository, title, description)});
        return chatPromptText(messages);
    }

    /** A chat rendered as prompt text ending with the assistant header. Each message is {role, content}. */
    public static String chatPromptText(List<String[]> messages) {
        StringBuilder sb = new StringBuilder(ByteTokenizer.BEGIN_OF_TEXT);
        for (String[] m : messages) {
            sb.append(ByteTokenizer.HEADER_START).append(m[0]).append(ByteTokenizer.HEADER_END).append("\n\n")
                    .append(m[1]).append(ByteTokenizer.EOT);
        }
        return sb.append(ByteTokenizer.HEADER_START).append("assistant").append(ByteTokenizer.HEADER_END).append("\n\n")
                .toString();
    }

    /** The assistant answer the model learns for a record. */
    public static String targetText(String issueType, List<String> steps) {
        StringBuilder sb = new StringBuilder("Issue type: ").append(issueType).append("\nResolution:");
        for (int i = 0; i < steps.size(); i++) {
            sb.append('\n').append(i + 1).append(". ").append(steps.get(i).replace('\n', ' '));
        }
        return sb.toString();
    }

    /**
     * Token ids of the prompt; user-supplied text is encoded as plain bytes (special-token strings
     * in it stay text). The description is cut to {@code maxDescriptionTokens}.
     */
    public int[] promptIds(IssueRecord r, int maxDescriptionTokens) {
        int[] desc = tokenizer.encode(r.description());
        if (desc.length > maxDescriptionTokens) {
            desc = java.util.Arrays.copyOf(desc, Math.max(0, maxDescriptionTokens));
        }
        IntList ids = new IntList();
        ids.add(tokenizer.specialId(ByteTokenizer.BEGIN_OF_TEXT));
        ids.add(tokenizer.specialId(ByteTokenizer.HEADER_START));
        ids.addAll(tokenizer.encode("user"));
        ids.add(tokenizer.specialId(ByteTokenizer.HEADER_END));
        ids.addAll(tokenizer.encode("\n\nRepository: " + r.repository() + "\nTitle: " + r.title() + "\nDescription: "));
        ids.addAll(desc);
        ids.add(tokenizer.specialId(ByteTokenizer.EOT));
        ids.add(tokenizer.specialId(ByteTokenizer.HEADER_START));
        ids.addAll(tokenizer.encode("assistant"));
        ids.add(tokenizer.specialId(ByteTokenizer.HEADER_END));
        ids.addAll(tokenizer.encode("\n\n"));
        return ids.toArray();
    }

    /** Token ids of the target answer, ending with {@code <|eot|>}. */
    public int[] targetIds(IssueRecord r) {
        IntList ids = new IntList();
        ids.addAll(tokenizer.encode(targetText(r.issueType(), r.steps())));
        ids.add(tokenizer.specialId(ByteTokenizer.EOT));
        return ids.toArray();
    }

    /**
     * One training example: prompt followed by target, cut to {@code maxSeqLen} by shortening the
     * description first and the target's tail last. {@code targetStart} is the index of the first
     * target token.
     */
    public Example example(IssueRecord r, int maxSeqLen) {
        int[] target = targetIds(r);
        int[] fullPrompt = promptIds(r, Integer.MAX_VALUE);
        int overflow = fullPrompt.length + target.length - maxSeqLen;
        int descLen = tokenizer.encode(r.description()).length;
        int[] prompt = overflow > 0 ? promptIds(r, descLen - overflow) : fullPrompt;
        int[] ids = new int[Math.min(maxSeqLen, prompt.length + target.length)];
        System.arraycopy(prompt, 0, ids, 0, Math.min(prompt.length, ids.length));
        if (ids.length > prompt.length) {
            System.arraycopy(target, 0, ids, prompt.length, ids.length - prompt.length);
        }
        return new Example(ids, Math.min(prompt.length, ids.length));
    }

    /** A tokenised training example. */
    public record Example(int[] ids, int targetStart) {
    }

    /** A model answer parsed back into an issue type and steps. */
    public record Prediction(String issueType, List<String> steps) {
    }

    /** Reads the issue type ({@code unknown} when absent or not one of the types) and numbered steps. */
    public static Prediction parse(String output) {
        Matcher m = TYPE_LINE.matcher(output);
        String type = m.find() ? m.group(1).toLowerCase(Locale.ROOT) : "unknown";
        if (!IssueRecord.ISSUE_TYPES.contains(type)) {
            type = "unknown";
        }
        List<String> steps = new ArrayList<>();
        for (String line : output.split("\\R")) {
            Matcher s = STEP_LINE.matcher(line);
            if (s.matches() && !s.group(1).isBlank()) {
                steps.add(s.group(1).strip());
            }
        }
        return new Prediction(type, steps);
    }

    /** Growable int array. */
    static final class IntList {
        private int[] data = new int[256];
        private int size;

        void add(int v) {
            if (size == data.length) {
                data = java.util.Arrays.copyOf(data, size * 2);
            }
            data[size++] = v;
        }

        void addAll(int[] values) {
            for (int v : values) {
                add(v);
            }
        }

        int[] toArray() {
            return java.util.Arrays.copyOf(data, size);
        }
    }
}
