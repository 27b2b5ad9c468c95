package dev.mlinfra.datasets.validation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class StreamingScanTest {

    private final DatasetScanner scanner = new DatasetScanner(1 << 20, 10);

    @Test
    void theStoredBytesAndTheVerdictMatchAScanOfTheWholeFile() throws IOException {
        byte[] file = Files.readAllBytes(Path.of(System.getProperty("mlinfra.root"), "samples/datasets/gitops-issues.jsonl"));
        StreamingScan scan = new StreamingScan(new ByteArrayInputStream(file), scanner, "jsonl", "test-scan");
        byte[] stored = scan.source().readAllBytes();
        ScanResult streamed = scan.finish();
        assertArrayEquals(file, stored, "what reaches the store is the file, byte for byte");
        assertEquals(file.length, scan.bytes());
        assertEquals(scanner.scan(new ByteArrayInputStream(file), "jsonl"), streamed);
        assertTrue(streamed.valid());
    }

    @Test
    void aScannerThatStopsEarlyDoesNotHoldUpTheUpload() throws IOException {
        // Malformed at the start, followed by far more data than the hand-over queue holds.
        byte[] file = ("{broken\n" + "x".repeat(20 * 1024 * 1024)).getBytes(StandardCharsets.UTF_8);
        StreamingScan scan = new StreamingScan(new ByteArrayInputStream(file), scanner, "jsonl", "test-scan");
        assertEquals(file.length, scan.source().readAllBytes().length);
        ScanResult result = scan.finish();
        assertFalse(result.valid());
        assertTrue(result.firstErrors().get(0).message().startsWith("malformed JSON"));
    }
}
