package dev.mlinfra.engine.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.engine.tokenizer.ByteTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
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
}
