package dev.mlinfra.datasets.validation;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import dev.mlinfra.commons.error.ErrorMappers;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads a dataset file record by record, never holding more than one record's short fields, and
 * checks each with a {@link RecordValidator}. {@code json} files are one array of records, {@code jsonl}
 * files one record per line. Malformed JSON (a truncated file, bytes that are not UTF-8) stops
 * the scan with an error at the record where it happened.
 */
public final class DatasetScanner {

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

    public ScanResult scan(InputStream in, String format) {
        Collector c = new Collector();
        try (JsonParser parser = factory.createParser(in)) {
            if ("json".equals(format)) {
                scanArray(parser, c);
            } else {
                scanLines(parser, c);
            }
        } catch (StreamConstraintsException e) {
            c.error(new RecordError(c.records + 1, c.validator.field(), "a string value is longer than the limit of "
                    + maxStringLength + " characters"));
        } catch (JsonProcessingException e) {
            c.error(new RecordError(c.records + 1, null, "malformed JSON at line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ": " + ErrorMappers.clean(e.getOriginalMessage())));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return c.result();
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
