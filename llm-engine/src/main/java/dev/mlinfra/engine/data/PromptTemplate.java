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

    private static final Pattern TYPE_LINE = Pattern.compile("(?im)^\\s*issue type:\\s*([a-z][a-z0-9_-]*)");
    private static final Pattern STEP_LINE = Pattern.compile("^\\s*\\d+[.)]\\s+(.*)$");

    private final ByteTokenizer tokenizer;

    public PromptTemplate(ByteTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    // The user message's fixed text around the record's fields; with the six special tokens of the
    // chat layout and the role names, this is the prompt's fixed length (see fit).
    private static final String REPOSITORY = "Repository: ";
    private static final String TITLE = "\nTitle: ";
    private static final String DESCRIPTION = "\nDescription: ";
    private static final String USER = "user";
    private static final String ASSISTANT = "assistant";
    private static final String AFTER_HEADER = "\n\n";
    private static final int PROMPT_SPECIALS = 6;
    private static final int HEAD_SPECIALS = 3;
    private static final String TYPE_PREFIX = "Issue type: ";
    private static final String RESOLUTION = "\nResolution:";

    /** Names of the record fields a prompt is made of, in the order they appear in it. */
    public static final List<String> FIELDS = List.of("repository", "issue_title", "issue_description");

    /** What ends an answer the model was trained to give (the target's last token). */
    public static final List<String> STOP = List.of(ByteTokenizer.EOT);

    /**
     * The prompt text with a {@code {field}} placeholder for each of {@link #FIELDS}: rendered by
     * {@link #promptText} itself, so that it can never differ from the prompts training builds.
     * Substituting each placeholder by its field's value, in one left-to-right pass, gives
     * {@code promptText} of those values (the fixed text holds no braces).
     */
    public static final String TEMPLATE = promptText(placeholder(FIELDS.get(0)), placeholder(FIELDS.get(1)),
            placeholder(FIELDS.get(2)));

    /** The placeholder of a field in {@link #TEMPLATE}: {@code {name}}. */
    public static String placeholder(String field) {
        return "{" + field + "}";
    }

    /** The user message of an issue. */
    public static String userMessage(String repository, String title, String description) {
        return REPOSITORY + repository + TITLE + title + DESCRIPTION + description;
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
        StringBuilder sb = new StringBuilder(TYPE_PREFIX).append(issueType).append(RESOLUTION);
        for (int i = 0; i < steps.size(); i++) {
            sb.append(stepPrefix(i)).append(steps.get(i).replace('\n', ' '));
        }
        return sb.toString();
    }

    private static String stepPrefix(int index) {
        return "\n" + (index + 1) + ". ";
    }

    /**
     * Token ids of the prompt; user-supplied text is encoded as plain bytes (special-token strings
     * in it stay text). The description is cut to {@code maxDescriptionTokens}.
     */
    public int[] promptIds(Issue r, int maxDescriptionTokens) {
        int[] desc = tokenizer.encode(r.description());
        if (desc.length > maxDescriptionTokens) {
            desc = java.util.Arrays.copyOf(desc, Math.max(0, maxDescriptionTokens));
        }
        IntList ids = new IntList();
        ids.add(tokenizer.specialId(ByteTokenizer.BEGIN_OF_TEXT));
        ids.add(tokenizer.specialId(ByteTokenizer.HEADER_START));
        ids.addAll(tokenizer.encode(USER));
        ids.add(tokenizer.specialId(ByteTokenizer.HEADER_END));
        ids.addAll(tokenizer.encode(AFTER_HEADER + REPOSITORY + r.repository() + TITLE + r.title() + DESCRIPTION));
        ids.addAll(desc);
        ids.add(tokenizer.specialId(ByteTokenizer.EOT));
        ids.add(tokenizer.specialId(ByteTokenizer.HEADER_START));
        ids.addAll(tokenizer.encode(ASSISTANT));
        ids.add(tokenizer.specialId(ByteTokenizer.HEADER_END));
        ids.addAll(tokenizer.encode(AFTER_HEADER));
        return ids.toArray();
    }

    /** Token ids of the target answer, ending with {@code <|eot|>}. */
    public int[] targetIds(Issue r) {
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
    public Example example(Issue r, int maxSeqLen) {
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

    /**
     * The part of a record that {@link #example} at {@code maxSeqLen} uses, and no more:
     * {@code example(fit(r, n), m)} equals {@code example(r, m)} for every {@code m <= n}, and the
     * fitted record holds about {@code maxSeqLen} bytes of text at most, whatever the size of the
     * original. Repository and title are kept as far as the prompt can reach, steps until the
     * answer fills the room the prompt leaves (the last one cut there; at least one step is always
     * kept), the description as far as the answer leaves room for it (example() shortens it
     * first). Texts are cut at character boundaries, keeping the character that straddles the
     * limit (tokens are UTF-8 bytes).
     */
    public static CompactRecord fit(Issue r, int maxSeqLen) {
        int beforeRepository = HEAD_SPECIALS + utf8Length(USER) + utf8Length(AFTER_HEADER) + utf8Length(REPOSITORY);
        String repository = prefixCovering(r.repository(), Math.max(1, maxSeqLen - beforeRepository));
        String title = prefixCovering(r.title(),
                Math.max(1, maxSeqLen - beforeRepository - utf8Length(repository) - utf8Length(TITLE)));
        int fixed = PROMPT_SPECIALS + utf8Length(USER) + utf8Length(AFTER_HEADER) + utf8Length(REPOSITORY)
                + utf8Length(TITLE) + utf8Length(DESCRIPTION) + utf8Length(ASSISTANT) + utf8Length(AFTER_HEADER);
        // Answer tokens an example can hold: all but the prompt without its description.
        int answerRoom = maxSeqLen - fixed - utf8Length(repository) - utf8Length(title);
        String type = r.issueType();
        List<String> steps = new ArrayList<>();
        int target = utf8Length(TYPE_PREFIX) + utf8Length(type) + utf8Length(RESOLUTION);
        List<String> all = r.steps();
        for (int i = 0; i < all.size() && (i == 0 || target < answerRoom); i++) {
            int prefix = utf8Length(stepPrefix(i));
            // At least one character, so that a kept step is never empty.
            String step = prefixCovering(all.get(i), Math.max(1, answerRoom - target - prefix));
            steps.add(step);
            target += prefix + utf8Length(step);
        }
        int targetTokens = target + 1; // <|eot|>
        // What example() keeps of the description: the room the rest leaves, when it overflows.
        int room = answerRoom - targetTokens;
        String description = r.description();
        if (utf8Length(description) > room) {
            description = room <= 0 ? "" : prefixCovering(description, room);
        }
        return new CompactRecord(repository, title, description, type, steps);
    }

    /** Bytes of {@code s} as {@link ByteTokenizer#encode} writes it (an unpaired surrogate becomes one byte, '?'). */
    static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            n += utf8Length(s, i);
            if (Character.isHighSurrogate(s.charAt(i)) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            }
        }
        return n;
    }

    private static int utf8Length(String s, int i) {
        char c = s.charAt(i);
        if (c < 0x80) {
            return 1;
        }
        if (c < 0x800) {
            return 2;
        }
        if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
            return 4;
        }
        return Character.isSurrogate(c) ? 1 : 3;
    }

    /** The shortest prefix of {@code s} (whole characters) whose UTF-8 form has at least {@code bytes} bytes, or all of {@code s}. */
    static String prefixCovering(String s, int bytes) {
        if (s.length() * 4L < bytes) {
            return s;
        }
        int n = 0;
        int i = 0;
        while (i < s.length() && n < bytes) {
            n += utf8Length(s, i);
            i += Character.isHighSurrogate(s.charAt(i)) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1)) ? 2 : 1;
        }
        return i == s.length() ? s : s.substring(0, i);
    }

    /**
     * A model answer parsed back.
     *
     * @param issueType the label the answer names, or {@value #UNKNOWN}
     * @param steps     its numbered steps
     * @param labelled  whether it named a label (of the label set, when one was given); false
     *                  also when the answer says {@code unknown} and no such label exists
     */
    public record Prediction(String issueType, List<String> steps, boolean labelled) {
    }

    /** The issue type of an answer without one, or with one that is not a label. */
    public static final String UNKNOWN = "unknown";

    /**
     * Reads the issue type from the {@code Issue type:} line (any label, see {@link Issue#isLabel};
     * {@value #UNKNOWN} when absent or not a label) and the numbered steps.
     */
    public static Prediction parse(String output) {
        return parse(output, null);
    }

    /**
     * As {@link #parse(String)}, and an issue type outside {@code labels} (the label set the model
     * was trained on) is {@value #UNKNOWN}, so that it counts as wrong. Null labels: any label.
     */
    public static Prediction parse(String output, java.util.Collection<String> labels) {
        Matcher m = TYPE_LINE.matcher(output);
        String type = m.find() ? m.group(1).toLowerCase(Locale.ROOT) : null;
        boolean labelled = type != null && Issue.isLabel(type) && (labels == null || labels.contains(type));
        List<String> steps = new ArrayList<>();
        for (String line : output.split("\\R")) {
            Matcher s = STEP_LINE.matcher(line);
            if (s.matches() && !s.group(1).isBlank()) {
                steps.add(s.group(1).strip());
            }
        }
        return new Prediction(labelled ? type : UNKNOWN, steps, labelled);
    }

    /**
     * True when an answer has the trained format: an {@code Issue type:} line naming a label-shaped
     * word and at least one numbered step (whatever the label and the steps say).
     */
    public static boolean hasAnswerFormat(String output) {
        return TYPE_LINE.matcher(output).find() && !parse(output).steps().isEmpty();
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
