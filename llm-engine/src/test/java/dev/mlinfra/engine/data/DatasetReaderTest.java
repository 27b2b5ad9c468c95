package dev.mlinfra.engine.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.engine.tokenizer.ByteTokenizer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DatasetReaderTest {

    private static byte[] fixture() throws IOException {
        return DatasetReaderTest.class.getResourceAsStream("/datasets/mixed.jsonl").readAllBytes();
    }

    @Test
    void jsonLinesAreReadAndUnusableRecordsReportedWithTheirLine() throws Exception {
        DatasetReader.Dataset d = DatasetReader.parse(fixture(), "jsonl");
        assertEquals(3, d.records().size());
        assertEquals(2, d.skipped().size());
        assertTrue(d.skipped().get(0).startsWith("line 5: issue_type"), d.skipped().get(0));
        assertTrue(d.skipped().get(1).startsWith("line 6: missing resolution"), d.skipped().get(1));
        assertTrue(d.records().get(0).json().path("extra_field").path("kept").asBoolean(), "unknown fields are kept");
    }

    @Test
    void jsonArraysAreDetected() throws Exception {
        String array = "[" + String.join(",", new String(fixture(), StandardCharsets.UTF_8).lines()
                .filter(l -> !l.isBlank()).toList()) + "]";
        DatasetReader.Dataset d = DatasetReader.parse(array.getBytes(StandardCharsets.UTF_8), "auto");
        assertEquals(3, d.records().size());
        assertThrows(IOException.class, () -> DatasetReader.parse("{\"a\":1".getBytes(StandardCharsets.UTF_8), "jsonl"));
        assertThrows(IOException.class, () -> DatasetReader.parse("[]".getBytes(StandardCharsets.UTF_8), "csv"));
    }

    @Test
    void stepsComeFromTrajectoryOrResolution() throws Exception {
        List<IssueRecord> r = DatasetReader.parse(fixture(), "jsonl").records();
        assertEquals(List.of("Check the helm-controller logs", "Fix the values schema", "Upgrade to flux 2.2.3"), r.get(0).steps());
        assertEquals(3, r.get(1).steps().size());
        assertEquals(List.of("Use ignoreDifferences with jsonPointers.", "Add it to the Application spec."), r.get(2).steps());
    }

    @Test
    void splitIsDeterministicAndDisjoint() throws Exception {
        List<IssueRecord> records = DatasetReader.parse(fixture(), "jsonl").records();
        DatasetReader.Split a = DatasetReader.split(records, 0.34, 9);
        DatasetReader.Split b = DatasetReader.split(records, 0.34, 9);
        assertEquals(a, b);
        assertEquals(1, a.validation().size());
        assertEquals(2, a.train().size());
        assertTrue(a.train().stream().noneMatch(a.validation()::contains));
    }

    @Test
    void templateRendersPromptAndTargetAndParsesAnswers() throws Exception {
        IssueRecord r = DatasetReader.parse(fixture(), "jsonl").records().get(0);
        ByteTokenizer tokenizer = new ByteTokenizer();
        PromptTemplate template = new PromptTemplate(tokenizer);
        PromptTemplate.Example e = template.example(r, 4096);
        String prompt = tokenizer.decode(java.util.Arrays.copyOf(e.ids(), e.targetStart()), false);
        assertEquals(PromptTemplate.promptText(r.repository(), r.title(), r.description()), prompt);
        String target = tokenizer.decode(java.util.Arrays.copyOfRange(e.ids(), e.targetStart(), e.ids().length), false);
        assertTrue(target.startsWith("Issue type: bug\nResolution:\n1. Check the helm-controller logs\n"));
        assertTrue(target.endsWith("<|eot|>"));
        PromptTemplate.Prediction p = PromptTemplate.parse(target.replace(ByteTokenizer.EOT, ""));
        assertEquals("bug", p.issueType());
        assertEquals(r.steps(), p.steps());
        assertEquals("unknown", PromptTemplate.parse("garbage").issueType());

        PromptTemplate.Example cut = template.example(r, e.ids().length - 20);
        assertEquals(e.ids().length - 20, cut.ids().length);
        assertEquals(e.ids().length - e.targetStart(), cut.ids().length - cut.targetStart(),
                "the description is shortened before the answer");
    }

    // ------------------------------------------------------------------ streaming (training)

    private static DatasetReader.Sample sample(byte[] data, String format, int maxRecords, long seed) throws IOException {
        return DatasetReader.sample(new ByteArrayInputStream(data), format, new DatasetReader.Sampling(maxRecords, seed, 4096));
    }

    private static String record(String type, String title) {
        return "{\"repository\": \"acme/infra\", \"issue_title\": \"" + title + "\", \"issue_description\": \"d\", "
                + "\"issue_type\": \"" + type + "\", \"created_at\": \"2024-03-01T10:00:00Z\", \"resolution\": \"Fix it.\"}";
    }

    @Test
    void streamedRecordsCarryTheSameTrainingTextAsParsedOnes() throws Exception {
        List<IssueRecord> parsed = DatasetReader.parse(fixture(), "jsonl").records();
        DatasetReader.Sample streamed = sample(fixture(), null, 100, 1);
        assertEquals(3, streamed.totalRecords());
        assertEquals(parsed.size(), streamed.records().size());
        for (int i = 0; i < parsed.size(); i++) {
            IssueRecord p = parsed.get(i);
            CompactRecord c = streamed.records().get(i);
            assertEquals(new CompactRecord(p.repository(), p.title(), p.description(), p.issueType(), p.steps()), c);
        }
        assertEquals(2, streamed.skippedRecords());
        assertEquals(Map.of(Issue.MISSING_TYPE, 1L, Issue.MISSING_STEPS, 1L), streamed.skippedReasons());
        assertTrue(streamed.skippedExamples().get(0).startsWith("line 5: issue_type"), streamed.skippedExamples().toString());
        assertTrue(streamed.skippedExamples().get(1).startsWith("line 6: missing resolution"), streamed.skippedExamples().toString());
    }

    @Test
    void anyLowercaseIssueTypeIsALabelAndEverySkippedRecordIsCountedWithItsReason() throws Exception {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        List<String> lines = List.of(
                record("documentation", "a"),                        // 1
                record("security", "b"),                             // 2
                record("ci-failure", "c"),                           // 3
                record(" Bug ", "d"),                                // 4: trimmed, lower-cased
                record("feature request", "e"),                      // 5: a space
                record("x".repeat(Issue.MAX_LABEL_LENGTH + 1), "f"), // 6: too long
                "{\"repository\": \"acme/infra\", \"issue_title\": \"g\", \"resolution\": \"Fix it.\"}", // 7: no type
                "{\"repository\": \"acme/infra\", \"issue_title\": ",  // 8: cut off
                "[1, 2]",                                            // 9: not an object
                "",                                                  // 10: blank, not a record
                record("bug", "h").replace("\"d\"", "\"caf\u00e9\"") // 11: made Latin-1 below
        );
        for (int i = 0; i < lines.size(); i++) {
            file.write((i == 10 ? lines.get(i).getBytes(StandardCharsets.ISO_8859_1) : lines.get(i).getBytes(StandardCharsets.UTF_8)));
            file.write(i == 3 ? "\r\n".getBytes(StandardCharsets.UTF_8) : "\n".getBytes(StandardCharsets.UTF_8));
        }
        file.write(record("security", "i").getBytes(StandardCharsets.UTF_8)); // 12: no final newline

        DatasetReader.Sample s = sample(file.toByteArray(), "jsonl", 100, 1);
        assertEquals(List.of("documentation", "security", "ci-failure", "bug", "security"),
                s.records().stream().map(CompactRecord::issueType).toList());
        assertEquals(List.of("bug", "ci-failure", "documentation", "security"), Issue.labels(s.records()));
        assertEquals(5, s.totalRecords());
        assertEquals(6, s.skippedRecords());
        assertEquals(Map.of(Issue.INVALID_TYPE, 2L, Issue.MISSING_TYPE, 1L, DatasetReader.NOT_JSON, 1L,
                DatasetReader.NOT_OBJECT, 1L, DatasetReader.NOT_UTF8, 1L), s.skippedReasons());
        assertEquals(List.of("line 5", "line 6", "line 7", "line 8", "line 9", "line 11"),
                s.skippedExamples().stream().map(e -> e.substring(0, e.indexOf(':'))).toList());
        assertTrue(s.skippedExamples().get(0).contains("got 'feature request'"), s.skippedExamples().get(0));

        // The same rule when a small file is read whole (evaluate).
        List<IssueRecord> parsed = DatasetReader.parse(record("ci-failure", "x").getBytes(StandardCharsets.UTF_8), "jsonl").records();
        assertEquals("ci-failure", parsed.get(0).issueType());
    }

    @Test
    void aLineLongerThanTheReadBufferAndAStringOverTheLimitAreHandledLineByLine() throws Exception {
        String longDescription = "word ".repeat(40_000); // 200 KB on one line
        String hugeUnknown = "y".repeat(DatasetReader.MAX_STRING_CHARS + 10); // skipped unread: not a field training uses
        String hugeKnown = "z".repeat(DatasetReader.MAX_STRING_CHARS + 10);
        String data = String.join("\n",
                record("bug", "long").replace("\"d\"", "\"" + longDescription + "\""),
                record("bug", "unknown field").replace("\"d\",", "\"d\", \"notes\": \"" + hugeUnknown + "\","),
                record("bug", "too long").replace("\"d\"", "\"" + hugeKnown + "\""),
                record("bug", "after"));
        DatasetReader.Sample s = DatasetReader.sample(new ByteArrayInputStream(data.getBytes(StandardCharsets.UTF_8)), "jsonl",
                new DatasetReader.Sampling(10, 1, 256));
        assertEquals(List.of("long", "unknown field", "after"), s.records().stream().map(CompactRecord::title).toList());
        assertEquals(Map.of(DatasetReader.TOO_LARGE, 1L), s.skippedReasons());
        assertTrue(s.skippedExamples().get(0).startsWith("line 3: "), s.skippedExamples().toString());
        assertTrue(PromptTemplate.utf8Length(s.records().get(0).description()) <= 256,
                "the kept description is cut to what 256 tokens can use");
    }

    @Test
    void reservoirSamplingIsSeededAndDrawsFromTheWholeFile() throws Exception {
        int n = 2000;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(record("bug", "issue " + i)).append('\n');
        }
        byte[] data = sb.toString().getBytes(StandardCharsets.UTF_8);

        DatasetReader.Sample all = sample(data, "jsonl", n, 5);
        assertEquals(n, all.records().size());
        assertEquals("issue 0", all.records().get(0).title(), "with room for every record, all are kept in file order");
        assertEquals("issue " + (n - 1), all.records().get(n - 1).title());

        DatasetReader.Sample a = sample(data, "jsonl", 20, 5);
        assertEquals(n, a.totalRecords());
        assertEquals(20, a.records().size());
        assertEquals(a.records(), sample(data, "jsonl", 20, 5).records(), "same file and seed, same sample");
        assertTrue(!a.records().equals(sample(data, "jsonl", 20, 6).records()), "another seed, another sample");
        assertEquals(20, new HashSet<>(a.records()).size(), "no record is kept twice");

        // Uniform over the whole file: about half of all kept records come from its second half.
        int late = 0;
        int kept = 0;
        for (long seed = 0; seed < 50; seed++) {
            for (CompactRecord r : sample(data, "jsonl", 20, seed).records()) {
                late += Integer.parseInt(r.title().substring("issue ".length())) >= n / 2 ? 1 : 0;
                kept++;
            }
        }
        double share = (double) late / kept;
        assertTrue(share > 0.42 && share < 0.58, "share of the second half: " + share);
    }

    @Test
    void jsonArraysStreamRecordByRecordAndAFileThatCannotBeReadFailsAsAWhole() throws Exception {
        String array = "\uFEFF  [" + record("documentation", "a") + ", 7, " + record("security", "b") + "]\n";
        DatasetReader.Sample s = sample(array.getBytes(StandardCharsets.UTF_8), "auto", 10, 1);
        assertEquals(List.of("a", "b"), s.records().stream().map(CompactRecord::title).toList());
        assertEquals(List.of("record 1: " + DatasetReader.NOT_OBJECT), s.skippedExamples());

        Map<String, byte[]> unreadable = Map.of(
                "cut off", ("[" + record("bug", "a") + ", " + record("bug", "b").substring(0, 40)).getBytes(StandardCharsets.UTF_8),
                "UTF-16", ("[" + record("bug", "a") + "]").getBytes(StandardCharsets.UTF_16),
                "NUL bytes", ("[" + record("bug", "a") + "]").getBytes(StandardCharsets.UTF_16LE),
                "not UTF-8", ("[" + record("bug", "caf\u00e9") + "]").getBytes(StandardCharsets.ISO_8859_1),
                "must be an array", record("bug", "a").getBytes(StandardCharsets.UTF_8));
        for (Map.Entry<String, byte[]> e : unreadable.entrySet()) {
            String format = e.getKey().equals("NUL bytes") ? "jsonl" : "json";
            InvalidDatasetException x = assertThrows(InvalidDatasetException.class, () -> sample(e.getValue(), format, 10, 1));
            assertTrue(x.getMessage().contains(e.getKey()), e.getKey() + ": " + x.getMessage());
        }
        assertThrows(InvalidDatasetException.class, () -> sample(new byte[0], "csv", 10, 1));
    }
}
