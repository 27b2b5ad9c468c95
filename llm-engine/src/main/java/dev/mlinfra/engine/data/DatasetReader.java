package dev.mlinfra.engine.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Reads dataset files: JSON Lines or one JSON array of records.
 *
 * <p>{@link #parse} reads a small file that is already in memory and keeps every record whole
 * (evaluation). {@link #sample} streams a file of any size, record by record, and keeps a
 * seeded uniform sample of at most a given number of records, each cut to what training can use
 * (training).
 */
public final class DatasetReader {

    /** Longest string value a streamed record may hold, in characters (dataset-service accepts 1 MiB by default). */
    public static final int MAX_STRING_CHARS = 4 * 1024 * 1024;
    /** How many skipped records {@link #sample} describes with their line or index (all are counted). */
    public static final int SKIPPED_EXAMPLES = 10;
    /** Reason a record is left out: its line is not JSON. */
    public static final String NOT_JSON = "not valid JSON";
    /** Reason a record is left out: its line holds bytes that are not UTF-8. */
    public static final String NOT_UTF8 = "not valid UTF-8";
    /** Reason a record is left out: a JSON value that is not an object. */
    public static final String NOT_OBJECT = "not a JSON object";
    /** Reason a record is left out: a string longer than {@link #MAX_STRING_CHARS}, or nesting deeper than the parser allows. */
    public static final String TOO_LARGE = "a value is beyond the reader's limits (strings up to " + MAX_STRING_CHARS
            + " characters, nesting up to " + StreamReadConstraints.DEFAULT_MAX_DEPTH + " levels)";

    // The start of a file, looked at to tell its format and to refuse files that are not UTF-8 text.
    private static final int HEAD_BYTES = 64 * 1024;
    private static final int LINE_BUFFER = 64 * 1024;
    private static final int DETAIL_CHARS = 160;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonFactory STREAMING = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(MAX_STRING_CHARS).build())
            .disable(StreamReadFeature.AUTO_CLOSE_SOURCE)
            .build();

    private DatasetReader() {
    }

    /** The records and the reasons records were left out. */
    public record Dataset(List<IssueRecord> records, List<String> skipped) {
    }

    /**
     * Parses {@code bytes} in the given format ({@code jsonl}, {@code json}, or null/{@code auto}
     * to decide by the first non-blank character). Records that cannot be trained on are skipped
     * and reported, with their line or index; a line that is not JSON fails the whole file.
     */
    public static Dataset parse(byte[] bytes, String format) throws IOException {
        String text = new String(bytes, StandardCharsets.UTF_8);
        String f = format == null ? "auto" : format.toLowerCase(Locale.ROOT);
        if (f.equals("auto")) {
            f = text.stripLeading().startsWith("[") ? "json" : "jsonl";
        }
        List<JsonNode> nodes = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        switch (f) {
            case "json" -> {
                JsonNode root = JSON.readTree(text);
                if (root == null || !root.isArray()) {
                    throw new IOException("a json dataset must be an array of records");
                }
                int i = 0;
                for (JsonNode n : root) {
                    nodes.add(n);
                    labels.add("record " + i++);
                }
            }
            case "jsonl" -> {
                String[] lines = text.split("\\R");
                for (int i = 0; i < lines.length; i++) {
                    if (lines[i].isBlank()) {
                        continue;
                    }
                    try {
                        nodes.add(JSON.readTree(lines[i]));
                    } catch (com.fasterxml.jackson.core.JacksonException e) {
                        throw new IOException("line " + (i + 1) + " is not valid JSON: " + e.getOriginalMessage());
                    }
                    labels.add("line " + (i + 1));
                }
            }
            default -> throw unsupported(format);
        }
        List<IssueRecord> records = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            JsonNode n = nodes.get(i);
            if (!n.isObject()) {
                skipped.add(labels.get(i) + ": " + NOT_OBJECT);
                continue;
            }
            IssueRecord r = new IssueRecord((ObjectNode) n);
            String problem = r.problem();
            if (problem != null) {
                skipped.add(labels.get(i) + ": " + problem + typeDetail(problem, r.json().path("issue_type").asText("")));
            } else {
                records.add(r);
            }
        }
        return new Dataset(records, skipped);
    }

    private static IOException unsupported(String format) {
        return new InvalidDatasetException("unsupported dataset format '" + format + "' (expected jsonl or json)");
    }

    private static String typeDetail(String problem, String rawType) {
        return problem.equals(Issue.INVALID_TYPE) ? ", got '" + clip(rawType) + "'" : "";
    }

    private static String clip(String s) {
        return s.length() <= DETAIL_CHARS ? s : s.substring(0, DETAIL_CHARS) + "...";
    }

    // ------------------------------------------------------------------------------------------ streaming

    /**
     * How {@link #sample} chooses and cuts records.
     *
     * @param maxRecords at most this many records are kept (a uniform sample of all usable ones)
     * @param seed       seed of the sample: the same file and seed give the same records
     * @param maxSeqLen  each kept record is cut to what a training example of this many tokens uses
     */
    public record Sampling(int maxRecords, long seed, int maxSeqLen) {
        public Sampling {
            if (maxRecords < 1 || maxSeqLen < 1) {
                throw new IllegalArgumentException("maxRecords and maxSeqLen must be positive");
            }
        }
    }

    /**
     * What streaming a dataset gave.
     *
     * @param records         the kept records: all usable ones in file order when there are at most
     *                        {@code maxRecords}, else a seeded uniform sample of them
     * @param totalRecords    usable records seen in the whole file
     * @param skippedRecords  records left out
     * @param skippedReasons  why records were left out: reason to count (a fixed set of reasons:
     *                        {@link #NOT_JSON}, {@link #NOT_UTF8}, {@link #NOT_OBJECT}, {@link #TOO_LARGE}
     *                        and those of {@link Issue}), sorted
     * @param skippedExamples the first {@value #SKIPPED_EXAMPLES} skipped records, with their line or index
     */
    public record Sample(List<CompactRecord> records, long totalRecords, long skippedRecords,
            Map<String, Long> skippedReasons, List<String> skippedExamples) {
    }

    /**
     * Streams a dataset and keeps a sample of it, never holding more than {@code maxRecords}
     * records, each cut with {@link PromptTemplate#fit}, plus one record being read. Every usable
     * record takes part in a seeded reservoir sample (algorithm R), so the kept records are a
     * uniform sample of the whole file, the same for the same file and seed.
     *
     * <p>A record that is not JSON, not an object, not UTF-8, holds a string longer than
     * {@link #MAX_STRING_CHARS}, or cannot be trained on is counted and left out. A file that cannot
     * be read as a whole fails with an {@link InvalidDatasetException}: not UTF-8 text (a byte
     * order mark of UTF-16/32, or NUL bytes, in its first 64 KiB), a {@code json} file that is not
     * one array, is cut off or holds a record that is not JSON.
     *
     * @param format {@code jsonl}, {@code json}, or null/{@code auto} to decide by the first non-blank byte
     */
    public static Sample sample(InputStream in, String format, Sampling sampling) throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(in, HEAD_BYTES);
        buffered.mark(HEAD_BYTES);
        byte[] head = buffered.readNBytes(HEAD_BYTES);
        buffered.reset();
        int start = checkText(head);
        buffered.skipNBytes(start);
        String f = format == null ? "auto" : format.toLowerCase(Locale.ROOT);
        if (f.equals("auto")) {
            f = firstNonBlank(head, start) == '[' ? "json" : "jsonl";
        }
        Sampler sampler = new Sampler(sampling);
        switch (f) {
            case "jsonl" -> readLines(buffered, sampler);
            case "json" -> readArray(buffered, sampler);
            default -> throw unsupported(format);
        }
        return sampler.result();
    }

    /** Refuses text that is not UTF-8 at all; returns how many bytes of a UTF-8 byte order mark to skip. */
    private static int checkText(byte[] head) throws InvalidDatasetException {
        int n = head.length;
        if (n >= 4 && head[0] == 0 && head[1] == 0 && (head[2] & 0xFF) == 0xFE && (head[3] & 0xFF) == 0xFF
                || n >= 4 && (head[0] & 0xFF) == 0xFF && (head[1] & 0xFF) == 0xFE && head[2] == 0 && head[3] == 0) {
            throw new InvalidDatasetException("the file is UTF-32 text (byte order mark); datasets must be UTF-8");
        }
        if (n >= 2 && ((head[0] & 0xFF) == 0xFE && (head[1] & 0xFF) == 0xFF || (head[0] & 0xFF) == 0xFF && (head[1] & 0xFF) == 0xFE)) {
            throw new InvalidDatasetException("the file is UTF-16 text (byte order mark); datasets must be UTF-8");
        }
        for (int i = 0; i < n; i++) {
            if (head[i] == 0) {
                throw new InvalidDatasetException("the file is not UTF-8 text: it holds NUL bytes (byte " + i
                        + "), as binary, compressed, UTF-16 or UTF-32 files do");
            }
        }
        return n >= 3 && (head[0] & 0xFF) == 0xEF && (head[1] & 0xFF) == 0xBB && (head[2] & 0xFF) == 0xBF ? 3 : 0;
    }

    private static int firstNonBlank(byte[] head, int from) {
        for (int i = from; i < head.length; i++) {
            byte b = head[i];
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                return b;
            }
        }
        return -1;
    }

    private static void readLines(InputStream in, Sampler sampler) throws IOException {
        LineSource lines = new LineSource(in);
        List<Fields> values = new ArrayList<>(1); // null: a value that is not an object
        while (lines.next()) {
            String where = "line " + lines.number();
            values.clear();
            String error = null;
            String detail = null;
            // A line is one record; values after the first on the same line count as records too.
            try (JsonParser p = STREAMING.createParser(lines.line())) {
                JsonToken t;
                while ((t = p.nextToken()) != null) {
                    if (t == JsonToken.START_OBJECT) {
                        values.add(Fields.read(p, sampler.sampling.maxSeqLen()));
                    } else {
                        p.skipChildren();
                        values.add(null);
                    }
                }
            } catch (SourceFailure e) {
                throw (IOException) e.getCause();
            } catch (StreamConstraintsException e) {
                error = TOO_LARGE;
                detail = e.getOriginalMessage();
            } catch (JsonProcessingException e) {
                error = NOT_JSON;
                detail = e.getOriginalMessage();
            } catch (IOException e) {
                // The parser's own decoding (a line that looks like UTF-16/32 to it), not the source.
                error = NOT_JSON;
                detail = e.getMessage();
            }
            lines.finish();
            if (!lines.utf8()) {
                sampler.skip(where, NOT_UTF8, null);
            } else if (error != null) {
                sampler.skip(where, error, detail);
            } else {
                for (Fields fields : values) {
                    if (fields != null) {
                        sampler.accept(fields, where);
                    } else {
                        sampler.skip(where, NOT_OBJECT, null);
                    }
                }
            }
        }
    }

    private static void readArray(InputStream in, Sampler sampler) throws IOException {
        Utf8Checked checked = new Utf8Checked(in);
        int index = 0;
        try (JsonParser p = STREAMING.createParser(checked)) {
            JsonToken first = p.nextToken();
            if (first == null) {
                return;
            }
            if (first != JsonToken.START_ARRAY) {
                throw new InvalidDatasetException("a json dataset must be an array of records (use format jsonl for one record per line)");
            }
            JsonToken t;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                if (t == null) {
                    throw new JsonEOFException(p, null, "end of file inside the array");
                }
                String where = "record " + index;
                if (t == JsonToken.START_OBJECT) {
                    sampler.accept(Fields.read(p, sampler.sampling.maxSeqLen()), where);
                } else {
                    p.skipChildren();
                    sampler.skip(where, NOT_OBJECT, null);
                }
                index++;
            }
            if (p.nextToken() != null) {
                throw new InvalidDatasetException("unexpected content after the closing ']' of the array");
            }
        } catch (StreamConstraintsException e) {
            throw new InvalidDatasetException("record " + index + ": " + TOO_LARGE, e);
        } catch (JsonEOFException e) {
            throw new InvalidDatasetException("the JSON array is cut off in record " + index + " (file truncated?)", e);
        } catch (JsonProcessingException e) {
            throw new InvalidDatasetException("record " + index + " is not valid JSON (line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() + "): " + e.getOriginalMessage(), e);
        }
    }

    /** Counts, skips and samples records; keeps what {@link Sample} reports. */
    private static final class Sampler {
        final Sampling sampling;
        final Random random;
        final List<CompactRecord> kept = new ArrayList<>();
        final Map<String, Long> reasons = new TreeMap<>();
        final List<String> examples = new ArrayList<>();
        long total;
        long skipped;

        Sampler(Sampling sampling) {
            this.sampling = sampling;
            this.random = new Random(sampling.seed() * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L);
        }

        void accept(Fields f, String where) {
            List<String> steps = f.steps();
            String problem = Issue.problem(f.repository(), f.title(), f.issueType(), !steps.isEmpty());
            if (problem != null) {
                skip(where, problem, problem.equals(Issue.INVALID_TYPE) ? "got '" + clip(f.rawType) + "'" : null);
                return;
            }
            // Algorithm R: record number `total` replaces a random kept one with probability max/(total+1).
            int max = sampling.maxRecords();
            if (total < max) {
                kept.add(PromptTemplate.fit(f, sampling.maxSeqLen()));
            } else {
                long j = random.nextLong(total + 1);
                if (j < max) {
                    kept.set((int) j, PromptTemplate.fit(f, sampling.maxSeqLen()));
                }
            }
            total++;
        }

        void skip(String where, String reason, String detail) {
            skipped++;
            reasons.merge(reason, 1L, Long::sum);
            if (examples.size() < SKIPPED_EXAMPLES) {
                examples.add(where + ": " + reason + (detail == null || detail.isBlank() ? "" : " (" + clip(detail) + ")"));
            }
        }

        Sample result() {
            return new Sample(Collections.unmodifiableList(kept), total, skipped, Collections.unmodifiableMap(reasons),
                    List.copyOf(examples));
        }
    }

    /**
     * The fields of one record read straight from the parser's tokens: only the fields training
     * uses become strings (unknown fields are skipped unread), and of a long trajectory only the
     * steps that a training example of {@code budget} tokens can reach are kept. Values read as
     * {@link IssueRecord} reads them from a tree.
     */
    private static final class Fields implements Issue {
        private String repository = "";
        private String title = "";
        private String description = "";
        private String rawType = "";
        private String resolution = "";
        private boolean trajectory;
        private final List<String> trajectorySteps = new ArrayList<>();
        private List<String> steps;

        /** Reads the object whose START_OBJECT is the parser's current token, up to its END_OBJECT. */
        static Fields read(JsonParser p, int budget) throws IOException {
            Fields f = new Fields();
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                switch (name) {
                    case "repository" -> f.repository = text(p, value);
                    case "issue_title" -> f.title = text(p, value);
                    case "issue_description" -> f.description = text(p, value);
                    case "issue_type" -> f.rawType = text(p, value);
                    case "resolution" -> f.resolution = text(p, value);
                    case "trajectory" -> f.readTrajectory(p, value, budget);
                    default -> p.skipChildren();
                }
            }
            if (t != JsonToken.END_OBJECT) {
                throw new com.fasterxml.jackson.core.JsonParseException(p, "unexpected token " + t + " in a record");
            }
            return f;
        }

        /** A scalar's text (as JsonNode.asText), "" for null, objects and arrays. */
        private static String text(JsonParser p, JsonToken value) throws IOException {
            if (value.isScalarValue() && value != JsonToken.VALUE_NULL) {
                return p.getText();
            }
            p.skipChildren();
            return "";
        }

        private void readTrajectory(JsonParser p, JsonToken value, int budget) throws IOException {
            trajectory = false;
            trajectorySteps.clear();
            if (value != JsonToken.START_ARRAY) {
                p.skipChildren();
                return;
            }
            int bytes = 0;
            JsonToken t;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                trajectory = true;
                if (bytes >= budget) {
                    // Past what an example can hold: skipped unread.
                    p.skipChildren();
                    continue;
                }
                String entry = t == JsonToken.VALUE_STRING ? p.getText() : JSON.readTree(p).toString();
                String step = IssueRecord.trajectoryStep(entry);
                if (!step.isEmpty()) {
                    trajectorySteps.add(step);
                    // Each step takes at least four more bytes in the answer ("\nN. ").
                    bytes += 4 + PromptTemplate.utf8Length(step);
                }
            }
        }

        @Override
        public String repository() {
            return repository;
        }

        @Override
        public String title() {
            return title;
        }

        @Override
        public String description() {
            return description;
        }

        @Override
        public String issueType() {
            return Issue.normalizeType(rawType);
        }

        @Override
        public List<String> steps() {
            if (steps == null) {
                steps = trajectory ? trajectorySteps : IssueRecord.splitSteps(resolution);
            }
            return steps;
        }
    }

    /**
     * The lines of a byte stream, one at a time, each as an {@link InputStream} that ends at its
     * newline, so that a line of any length passes without being held; checks each line's UTF-8.
     */
    private static final class LineSource {
        private final InputStream in;
        private final byte[] buffer = new byte[LINE_BUFFER];
        private final Utf8Validator utf8 = new Utf8Validator();
        private final byte[] scratch = new byte[LINE_BUFFER];
        private int pos;
        private int limit;
        private long number;
        private boolean ended = true;
        private final InputStream line = new InputStream() {
            @Override
            public int read() throws IOException {
                int n = read(scratch, 0, 1);
                return n < 0 ? -1 : scratch[0] & 0xFF;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return readLine(b, off, len);
            }
        };

        LineSource(InputStream in) {
            this.in = in;
        }

        /** Starts the next line; false at the end of the input. */
        boolean next() throws IOException {
            if (!ended) {
                throw new IllegalStateException("the current line was not finished");
            }
            if (pos == limit && !fill()) {
                return false;
            }
            number++;
            ended = false;
            utf8.reset();
            return true;
        }

        long number() {
            return number;
        }

        /** The current line's bytes, without its newline. */
        InputStream line() {
            return line;
        }

        /** Reads the rest of the current line, if any. */
        void finish() throws IOException {
            while (readLine(scratch, 0, scratch.length) >= 0) {
                // drained
            }
        }

        /** True when the whole current line (after {@link #finish}) was UTF-8. */
        boolean utf8() {
            return utf8.complete();
        }

        private int readLine(byte[] b, int off, int len) throws IOException {
            if (ended) {
                return -1;
            }
            if (len == 0) {
                return 0;
            }
            if (pos == limit && !fill()) {
                ended = true;
                return -1;
            }
            int end = Math.min(limit, pos + len);
            int i = pos;
            while (i < end && buffer[i] != '\n') {
                i++;
            }
            int n = i - pos;
            System.arraycopy(buffer, pos, b, off, n);
            utf8.accept(buffer, pos, n);
            pos = i;
            if (i < end) {
                pos++; // the newline
                ended = true;
            }
            return n == 0 && ended ? -1 : n;
        }

        private boolean fill() throws IOException {
            int n;
            try {
                do {
                    n = in.read(buffer, 0, buffer.length);
                } while (n == 0);
            } catch (IOException e) {
                throw new SourceFailure(e);
            }
            pos = 0;
            limit = Math.max(0, n);
            return n > 0;
        }
    }

    /** A failure to read the dataset itself (a file or network error), passed through the parser. */
    private static final class SourceFailure extends IOException {
        SourceFailure(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }

    /** Passes a stream through, failing the read that meets a byte that is not UTF-8. */
    private static final class Utf8Checked extends InputStream {
        private final InputStream in;
        private final Utf8Validator utf8 = new Utf8Validator();
        private final byte[] one = new byte[1];

        Utf8Checked(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0 && !utf8.accept(b, off, n) || n < 0 && !utf8.complete()) {
                throw new InvalidDatasetException("the file is not UTF-8 text: byte " + (utf8.invalidAt() < 0 ? "at the end"
                        : utf8.invalidAt()) + " is not part of a UTF-8 character");
            }
            return n;
        }
    }

    /** Splits records deterministically: a seeded shuffle, the first {@code validation} records validate. */
    public static Split split(List<? extends Issue> records, double validationFraction, long seed) {
        List<Issue> shuffled = new ArrayList<>(records);
        java.util.Collections.shuffle(shuffled, new java.util.Random(seed));
        int n = shuffled.size();
        int validation = validationFraction <= 0 || n < 2 ? 0 : Math.max(1, (int) Math.round(n * validationFraction));
        validation = Math.min(validation, n - 1);
        return new Split(List.copyOf(shuffled.subList(validation, n)), List.copyOf(shuffled.subList(0, validation)));
    }

    /** Training and validation records. */
    public record Split(List<Issue> train, List<Issue> validation) {
    }
}
