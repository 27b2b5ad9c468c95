package dev.mlinfra.datasets.validation;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import dev.mlinfra.commons.error.ErrorMappers;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a dataset file record by record, never holding more than one record's short fields, and
 * checks each with a {@link RecordValidator}. {@code json} files are one array of records, {@code jsonl}
 * files one record per line. Malformed JSON (a truncated file, bytes that are not UTF-8) stops
 * the scan with an error at the record where it happened.
 */
public final class DatasetScanner {

    /** The bytes looked at for the text's encoding. */
    private static final int HEAD = 4096;

    private final JsonFactory factory;
    private final int maxStringLength;
    private final int keptErrors;

    /**
     * @param maxStringLength longest string value a record may hold, in characters
     * @param keptErrors      how many errors are kept in detail (all are counted)
     */
    public DatasetScanner(int maxStringLength, int keptErrors) {
        this.maxStringLength = maxStringLength;
        this.keptErrors = keptErrors;
        this.factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(maxStringLength).build())
                .build();
    }

    public ScanResult scan(InputStream file, String format) {
        Collector c = new Collector();
        BufferedInputStream in = new BufferedInputStream(file, HEAD);
        try {
            in.mark(HEAD);
            String notUtf8 = notUtf8(in.readNBytes(HEAD));
            in.reset();
            if (notUtf8 != null) {
                // The parser would read UTF-16 or UTF-32 as such, and the trainer refuses it; say what it is.
                c.error(new RecordError(1, null, notUtf8));
                return c.result();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (JsonParser parser = factory.createParser(in)) {
            try {
                if ("json".equals(format)) {
                    scanArray(parser, c);
                } else {
                    scanLines(parser, c);
                }
            } catch (StreamConstraintsException e) {
                c.error(new RecordError(c.records + 1, recordField(parser, c), overLimit(e)));
            }
        } catch (JsonProcessingException e) {
            c.error(new RecordError(c.records + 1, null, "malformed JSON at line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ": " + ErrorMappers.clean(e.getOriginalMessage())));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return c.result();
    }

    private static final Pattern LIMIT = Pattern.compile("^([A-Za-z ]+?) \\((\\d+)\\) exceeds the maximum allowed \\((\\d+)");

    /** Which of the parser's limits the record went past, for a person: the value's kind, its size and the limit. */
    private String overLimit(StreamConstraintsException e) {
        Matcher m = LIMIT.matcher(String.valueOf(e.getOriginalMessage()));
        if (!m.find()) {
            return ErrorMappers.clean(e.getOriginalMessage());
        }
        return switch (m.group(1)) {
            case "String value length" -> "a string value is longer than the limit of " + maxStringLength + " characters";
            case "Number value length" -> "a number of " + m.group(2) + " characters is longer than the limit of "
                    + m.group(3);
            case "Document nesting depth" -> "values are nested more than " + m.group(3) + " levels deep, the limit";
            default -> ErrorMappers.clean(e.getOriginalMessage());
        };
    }

    /**
     * The field of the record that the value past a limit is in: the outermost field name around
     * where the parser stopped (a value nested in an unknown field is that field's), else the
     * validator's current field.
     */
    private static String recordField(JsonParser parser, Collector c) {
        String outermost = null;
        for (JsonStreamContext context = parser.getParsingContext(); context != null; context = context.getParent()) {
            if (context.getCurrentName() != null) {
                outermost = context.getCurrentName();
            }
        }
        return outermost != null ? outermost : c.validator.field();
    }

    /** Why a file whose first bytes are {@code head} is not UTF-8 text, or null when it may be. */
    static String notUtf8(byte[] head) {
        int b0 = head.length > 0 ? head[0] & 0xFF : -1;
        int b1 = head.length > 1 ? head[1] & 0xFF : -1;
        if (head.length >= 4 && (b0 == 0 && b1 == 0 && (head[2] & 0xFF) == 0xFE && (head[3] & 0xFF) == 0xFF
                || b0 == 0xFF && b1 == 0xFE && head[2] == 0 && head[3] == 0)) {
            return "the file is UTF-32 text (byte order mark); datasets must be UTF-8";
        }
        if (b0 == 0xFE && b1 == 0xFF || b0 == 0xFF && b1 == 0xFE) {
            return "the file is UTF-16 text (byte order mark); datasets must be UTF-8";
        }
        for (int i = 0; i < head.length; i++) {
            if (head[i] == 0) {
                return "the file is not UTF-8 text: it holds NUL bytes (byte " + i + "), as binary, compressed, UTF-16 and"
                        + " UTF-32 files do; datasets must be UTF-8";
            }
        }
        return null;
    }

    private void scanArray(JsonParser parser, Collector c) throws IOException {
        JsonToken first = parser.nextToken();
        if (first == null) {
            return;
        }
        if (first != JsonToken.START_ARRAY) {
            c.error(new RecordError(1, null, "a 'json' dataset must be one JSON array of records; use format 'jsonl' for one record per line"));
            return;
        }
        JsonToken token;
        while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
            if (token == null) {
                throw new com.fasterxml.jackson.core.io.JsonEOFException(parser, null, "the array is not closed (file truncated?)");
            }
            readRecord(parser, c);
        }
        if (parser.nextToken() != null) {
            c.error(new RecordError(c.records, null, "unexpected content after the closing ']' of the array"));
        }
    }

    private void scanLines(JsonParser parser, Collector c) throws IOException {
        while (parser.nextToken() != null) {
            readRecord(parser, c);
        }
    }

    private void readRecord(JsonParser parser, Collector c) throws IOException {
        RecordValidator.Outcome outcome = c.validator.read(parser, c.records + 1);
        c.records++;
        if (outcome.valid() != null) {
            c.add(outcome.valid());
        } else {
            outcome.errors().forEach(c::error);
        }
    }

    private final class Collector {
        final RecordValidator validator = new RecordValidator();
        long records;
        long errorCount;
        final List<RecordError> errors = new ArrayList<>();
        // Hash sets while reading (cheaper per record), sorted once at the end.
        final Set<String> repositories = new HashSet<>();
        final Set<String> issueTypes = new HashSet<>();
        LocalDate earliest;
        LocalDate latest;

        void add(RecordValidator.Valid v) {
            repositories.add(v.repository());
            issueTypes.add(v.issueType());
            if (earliest == null || v.date().isBefore(earliest)) {
                earliest = v.date();
            }
            if (latest == null || v.date().isAfter(latest)) {
                latest = v.date();
            }
        }

        void error(RecordError e) {
            errorCount++;
            if (errors.size() < keptErrors) {
                errors.add(e);
            }
        }

        ScanResult result() {
            return new ScanResult(records, new TreeSet<>(repositories), new TreeSet<>(issueTypes), earliest, latest, List.copyOf(errors), errorCount);
        }
    }
}
