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
        // The reason says that validation stopped there, not that the problem was found in the one record read before.
        ScanResult middle = scan(GOOD + "\n{\"repository\": oops}\n" + GOOD2, "jsonl");
        assertTrue(middle.summary().startsWith("1 problem found (validation stopped at record 2); first: record 2"),
                middle.summary());
        // Where the broken object began is said as a place in the file, without the parser's notes about its source.
        ScanResult open = scan("{", "jsonl");
        String message = open.firstErrors().get(0).message();
        assertTrue(message.endsWith("(start marker at line 1, column 1)") && !message.contains("Source"), message);
        ScanResult array = scan("[" + GOOD + ",", "json");
        assertFalse(array.valid());
        assertTrue(array.summary().contains("malformed JSON"), array.summary());
    }

    @Test
    void textThatIsNotUtf8IsSaidToBeSoNotReadAsJsonInAnotherEncoding() {
        ScanResult utf16 = scanner.scan(new ByteArrayInputStream((GOOD + "\n").getBytes(StandardCharsets.UTF_16LE)), "jsonl");
        assertFalse(utf16.valid());
        assertTrue(utf16.firstErrors().get(0).message().startsWith("the file is not UTF-8 text: it holds NUL bytes"),
                utf16.firstErrors().toString());
        byte[] marked = ("\uFEFF" + GOOD + "\n").getBytes(StandardCharsets.UTF_16LE);
        ScanResult bom = scanner.scan(new ByteArrayInputStream(marked), "jsonl");
        assertEquals("the file is UTF-16 text (byte order mark); datasets must be UTF-8", bom.firstErrors().get(0).message());
        // A UTF-16 mark before UTF-8 bytes (what a probe sent): the same, not a parser's "unexpected character".
        byte[] mixed = ("\u00FF\u00FE" + GOOD).getBytes(StandardCharsets.ISO_8859_1);
        assertEquals("the file is UTF-16 text (byte order mark); datasets must be UTF-8",
                scanner.scan(new ByteArrayInputStream(mixed), "jsonl").firstErrors().get(0).message());
        // A UTF-8 byte order mark is fine.
        assertTrue(scan("\uFEFF" + GOOD + "\n", "jsonl").valid());
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
    void aNumberTooLongOrValuesNestedTooDeepAreRefusedSayingSoAndNamingTheirField() {
        ScanResult number = scan(GOOD.replace("{\"kept\":true}}", "{\"kept\":true},\"issue_number\":" + "7".repeat(1010) + "}"), "jsonl");
        assertEquals(new RecordError(1, "issue_number", "a number of 1010 characters is longer than the limit of 1000"),
                number.firstErrors().get(0), number.firstErrors().toString());
        ScanResult deep = scan(GOOD.replace("{\"kept\":true}", "[".repeat(1500) + "]".repeat(1500)), "jsonl");
        assertEquals(1, deep.firstErrors().get(0).record(), deep.firstErrors().toString());
        assertEquals("extra", deep.firstErrors().get(0).field(), deep.firstErrors().toString());
        assertEquals("values are nested more than 1000 levels deep, the limit", deep.firstErrors().get(0).message());
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

    @Test
    void datesAreReadAsRfc3339AndCountedInUtc() {
        assertEquals(LocalDate.of(2024, 3, 18), Rfc3339.utcDate("2024-03-17T23:30:00-02:00"));
        assertEquals(LocalDate.of(2024, 3, 16), Rfc3339.utcDate("2024-03-17T00:30:00+02:00"));
        assertEquals(LocalDate.of(2024, 3, 17), Rfc3339.utcDate("2024-03-17t09:12:44.123456z"));
        assertEquals(LocalDate.of(2024, 3, 17), Rfc3339.utcDate("2024-03-17 09:12:44Z"));
        assertEquals(LocalDate.of(2024, 2, 29), Rfc3339.utcDate("2024-02-29"));
        for (String bad : List.of("2023-02-29", "2024-13-01", "2024-03-17T24:00:00Z", "2024-03-17T09:12Z", "2024-03-17T09:12:44",
                "2024-03-17T09:12:44.Z", "2024-03-17T09:12:44+0200", "17/03/2024", "2024-3-17", "", "2024-03-17Z")) {
            assertEquals(null, Rfc3339.utcDate(bad), bad);
        }
        ScanResult r = scan(GOOD.replace("2024-03-17T09:12:44Z", "2024-03-17T23:30:00-02:00"), "jsonl");
        assertEquals(LocalDate.of(2024, 3, 18), r.latest());
    }

    @Test
    void aNullOutcomeIsAMissingOne() {
        ScanResult r = scan(GOOD.replace("\"Fixed in v2.10.3\"", "null"), "jsonl");
        assertEquals(new RecordError(1, "resolution",
                "missing: a record needs 'resolution' (text) or 'trajectory' (array of steps), or both"), r.firstErrors().get(0));
    }

    @Test
    void stepsAndLabelsAreCheckedOneByOne() {
        ScanResult blank = scan(GOOD2.replace("\"Implement\"", "\"  \""), "jsonl");
        assertEquals(new RecordError(1, "trajectory[1]", "expected a non-empty string, got a string"), blank.firstErrors().get(0));
        ScanResult number = scan(GOOD2.replace("\"Design\"", "{\"step\":1}"), "jsonl");
        assertEquals(new RecordError(1, "trajectory[0]", "expected a non-empty string, got an object"), number.firstErrors().get(0));
        ScanResult labels = scan(GOOD.replace("\"extra\"", "\"labels\":[\"ok\",\"\",7],\"extra\""), "jsonl");
        assertEquals(List.of(new RecordError(1, "labels[2]", "expected a string, got a number (7)")), labels.firstErrors());
        ScanResult issueNumber = scan(GOOD.replace("\"extra\"", "\"issue_number\":-3,\"extra\""), "jsonl");
        assertEquals(new RecordError(1, "issue_number", "expected a positive integer, got a number (-3)"), issueNumber.firstErrors().get(0));
        assertTrue(scan(GOOD.replace("\"extra\"", "\"issue_number\":4512,\"url\":\"https://x.test/4512\",\"extra\""), "jsonl").valid());
    }

    @Test
    void namesAndLabelsFollowTheirPatterns() {
        assertTrue(RecordValidator.isRepository("argoproj/argo-cd"));
        assertTrue(RecordValidator.isRepository("A_b.c/D-9"));
        for (String bad : List.of("argo-cd", "/argo", "argo/", "a/b/c", "a b/c", "ä/b", "")) {
            assertFalse(RecordValidator.isRepository(bad), bad);
        }
        assertTrue(RecordValidator.isIssueType("bug"));
        assertTrue(RecordValidator.isIssueType("a" + "b".repeat(31)));
        for (String bad : List.of("Bug", "1bug", "a" + "b".repeat(32), "bug fix", "", "_x")) {
            assertFalse(RecordValidator.isIssueType(bad), bad);
        }
    }

    @Test
    void unknownFieldsAreKeptButTheirBytesStillChecked() {
        assertTrue(scan(GOOD.replace("{\"kept\":true}", "[1,{\"deep\":[\"x\",null]},\"y\"]"), "jsonl").valid());
        ScanResult longUnknown = scan(GOOD.replace("{\"kept\":true}", "{\"notes\":[\"" + "x".repeat(5000) + "\"]}"), "jsonl");
        assertEquals(new RecordError(1, "extra", "a string value is longer than the limit of 1024 characters"),
                longUnknown.firstErrors().get(0));
        byte[] bad = GOOD.replace("\"kept\":true", "\"kept\":\"XX\"").getBytes(StandardCharsets.UTF_8);
        int at = new String(bad, StandardCharsets.UTF_8).indexOf("XX");
        bad[at] = (byte) 0xc3;
        bad[at + 1] = (byte) 0x28;
        ScanResult r = scanner.scan(new ByteArrayInputStream(bad), "jsonl");
        assertFalse(r.valid());
        assertTrue(r.firstErrors().get(0).message().contains("UTF-8"), r.firstErrors().toString());
    }

    @Test
    void aRecordThatIsNotAnObjectIsNamedByWhatItIs() {
        ScanResult r = scan("[" + GOOD + ",[1,2],\"text\"]", "json");
        assertEquals(List.of(new RecordError(2, null, "expected a JSON object, got an array"),
                new RecordError(3, null, "expected a JSON object, got a string")), r.firstErrors());
        assertEquals(3, r.records());
    }
}
