package dev.mlinfra.datasets.validation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.List;
import org.junit.jupiter.api.Test;

class DatasetScannerTest {

    private static final String GOOD = "{\"repository\":\"argoproj/argo-cd\",\"issue_title\":\"Sync hangs\","
            + "\"issue_description\":\"The sync never finishes.\",\"issue_type\":\"bug\",\"created_at\":\"2024-03-17T09:12:44Z\","
            + "\"resolution\":\"Fixed in v2.10.3\",\"extra\":{\"kept\":true}}";
    private static final String GOOD2 = "{\"repository\":\"helm/helm\",\"issue_title\":\"OCI support\","
            + "\"issue_description\":\"Please add OCI.\",\"issue_type\":\"feature\",\"created_at\":\"2023-01-05\","
            + "\"trajectory\":[\"Design\",\"Implement\"]}";

    private final DatasetScanner scanner = new DatasetScanner(1024, 5);

    private ScanResult scan(String text, String format) {
        return scanner.scan(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), format);
    }

    @Test
    void validJsonlYieldsExactStatistics() {
        ScanResult r = scan(GOOD + "\n\n" + GOOD2 + "\n", "jsonl");
        assertTrue(r.valid());
        assertEquals(2, r.records());
        assertEquals(List.of("argoproj/argo-cd", "helm/helm"), List.copyOf(r.repositories()));
        assertEquals(List.of("bug", "feature"), List.copyOf(r.issueTypes()));
        assertEquals(LocalDate.of(2023, 1, 5), r.earliest());
        assertEquals(LocalDate.of(2024, 3, 17), r.latest());
    }

    @Test
    void validJsonArrayIsReadRecordByRecord() {
        ScanResult r = scan("[" + GOOD + "," + GOOD2 + "]", "json");
        assertTrue(r.valid());
        assertEquals(2, r.records());
    }

    @Test
    void aTruncatedFileFailsAtTheRecordWhereItBreaks() {
        ScanResult r = scan(GOOD + "\n" + GOOD2.substring(0, 40), "jsonl");
        assertFalse(r.valid());
        assertEquals(2, r.firstErrors().get(0).record());
        assertTrue(r.firstErrors().get(0).message().startsWith("malformed JSON"), r.firstErrors().toString());
        ScanResult array = scan("[" + GOOD + ",", "json");
        assertFalse(array.valid());
        assertTrue(array.summary().contains("malformed JSON"), array.summary());
    }

    @Test
    void aFieldOfTheWrongTypeIsNamed() {
        ScanResult r = scan(GOOD.replace("\"bug\"", "42"), "jsonl");
        assertEquals(new RecordError(1, "issue_type", "expected a string, got a number (42)"), r.firstErrors().get(0));
    }

    @Test
    void aMissingFieldIsNamed() {
        ScanResult r = scan(GOOD2 + "\n" + GOOD.replace("\"issue_title\":\"Sync hangs\",", ""), "jsonl");
        assertEquals(new RecordError(2, "issue_title", "missing required field"), r.firstErrors().get(0));
        ScanResult noOutcome = scan(GOOD.replace(",\"resolution\":\"Fixed in v2.10.3\"", ""), "jsonl");
        assertEquals("resolution", noOutcome.firstErrors().get(0).field());
    }

    @Test
    void aBadDateIsNamed() {
        ScanResult r = scan(GOOD.replace("2024-03-17T09:12:44Z", "17/03/2024"), "jsonl");
        assertEquals("created_at", r.firstErrors().get(0).field());
        assertTrue(r.firstErrors().get(0).message().contains("17/03/2024"));
    }

    @Test
    void zeroRecordsIsNotAValidDataset() {
        assertFalse(scan("[]", "json").valid());
        assertEquals(0, scan("[]", "json").records());
        assertFalse(scan("\n\n", "jsonl").valid());
        assertEquals("The file holds no records", scan("  ", "jsonl").summary());
    }

    @Test
    void bytesThatAreNotUtf8AreRefused() {
        byte[] good = (GOOD + "\n").getBytes(StandardCharsets.UTF_8);
        byte[] bad = GOOD.replace("Sync hangs", "Sync XX").getBytes(StandardCharsets.UTF_8);
        int at = new String(bad, StandardCharsets.UTF_8).indexOf("XX");
        bad[at] = (byte) 0xff;
        bad[at + 1] = (byte) 0xfe;
        byte[] all = new byte[good.length + bad.length];
        System.arraycopy(good, 0, all, 0, good.length);
        System.arraycopy(bad, 0, all, good.length, bad.length);
        ScanResult r = scanner.scan(new ByteArrayInputStream(all), "jsonl");
        assertFalse(r.valid());
        assertEquals(2, r.firstErrors().get(0).record());
        assertTrue(r.firstErrors().get(0).message().contains("UTF-8"), r.firstErrors().toString());
    }

    @Test
    void aStringOverTheLimitIsRefusedNamingItsField() {
        ScanResult r = scan(GOOD.replace("The sync never finishes.", "x".repeat(5000)), "jsonl");
        assertFalse(r.valid());
        assertEquals(new RecordError(1, "issue_description", "a string value is longer than the limit of 1024 characters"),
                r.firstErrors().get(0));
    }

    @Test
    void errorsAreAllCountedButOnlyTheFirstKept() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 12; i++) {
            b.append("{}\n");
        }
        ScanResult r = scan(b.toString(), "jsonl");
        assertEquals(5, r.firstErrors().size());
        assertTrue(r.errorCount() >= 12 * 5, "each empty record misses several fields");
        assertEquals(12, r.records());
    }

    @Test
    void aJsonFileMustBeAnArray() {
        ScanResult r = scan(GOOD, "json");
        assertFalse(r.valid());
        assertTrue(r.firstErrors().get(0).message().contains("jsonl"));
    }
}
