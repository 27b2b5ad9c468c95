package dev.mlinfra.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.engine.tokenizer.ByteTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PromptTemplateTest {

    private static final PromptTemplate TEMPLATE = new PromptTemplate(new ByteTokenizer());
    // One-, two-, three- and four-byte characters, a newline, and an unpaired surrogate (encoded as '?').
    private static final String[] PIECES = {"a", "b", " ", "\n", "\u00e9", "\u4e2d", "\ud83d\ude00", "\ud800", "word "};

    private static String text(Random rnd, int maxChars) {
        int n = 1 + rnd.nextInt(maxChars);
        StringBuilder sb = new StringBuilder("x");
        while (sb.length() < n) {
            sb.append(PIECES[rnd.nextInt(PIECES.length)]);
        }
        return sb.toString();
    }

    private static CompactRecord randomRecord(Random rnd) {
        // Short and long fields in every combination: each field is long in about a third of the records.
        int[] sizes = {rnd.nextInt(3) == 0 ? 3000 : 40, rnd.nextInt(3) == 0 ? 3000 : 60,
                rnd.nextInt(3) == 0 ? 5000 : 300, rnd.nextInt(3) == 0 ? 800 : 80};
        List<String> steps = new ArrayList<>();
        int count = 1 + rnd.nextInt(rnd.nextInt(4) == 0 ? 40 : 4);
        for (int i = 0; i < count; i++) {
            steps.add(text(rnd, sizes[3]));
        }
        return new CompactRecord(text(rnd, sizes[0]), text(rnd, sizes[1]), text(rnd, sizes[2]),
                rnd.nextBoolean() ? "bug" : "ci-failure", steps);
    }

    private static int textBytes(CompactRecord r) {
        int n = PromptTemplate.utf8Length(r.repository()) + PromptTemplate.utf8Length(r.title())
                + PromptTemplate.utf8Length(r.description());
        for (String s : r.steps()) {
            n += PromptTemplate.utf8Length(s);
        }
        return n;
    }

    @Test
    void aFittedRecordGivesTheSameTrainingExampleAndHoldsAboutMaxSeqLenBytes() {
        Random rnd = new Random(11);
        int cut = 0;
        for (int i = 0; i < 400; i++) {
            CompactRecord r = randomRecord(rnd);
            int maxSeqLen = new int[] {64, 97, 160, 384, 1024}[i % 5];
            CompactRecord fitted = PromptTemplate.fit(r, maxSeqLen);
            for (int length : new int[] {maxSeqLen, maxSeqLen * 2 / 3, 64}) {
                PromptTemplate.Example expected = TEMPLATE.example(r, length);
                PromptTemplate.Example actual = TEMPLATE.example(fitted, length);
                assertArrayEquals(expected.ids(), actual.ids(), "record " + i + " at " + length + " of " + maxSeqLen);
                assertEquals(expected.targetStart(), actual.targetStart(), "record " + i);
            }
            assertTrue(textBytes(fitted) <= maxSeqLen + 32, "record " + i + " keeps " + textBytes(fitted) + " bytes");
            assertFalse(fitted.steps().isEmpty());
            assertEquals(r.issueType(), fitted.issueType());
            cut += fitted.equals(r) ? 0 : 1;
        }
        assertTrue(cut > 200, "most random records are long enough to be cut: " + cut);

        CompactRecord small = new CompactRecord("acme/infra", "Pods restart", "After the upgrade", "bug", List.of("Roll back"));
        assertEquals(small, PromptTemplate.fit(small, 512), "a record that fits is kept as it is");
    }

    @Test
    void anyLabelIsReadBackAndOneOutsideTheLabelSetCountsAsUnknown() {
        String answer = "Issue type: ci-failure\nResolution:\n1. Re-run the job\n2. Pin the runner image";
        PromptTemplate.Prediction p = PromptTemplate.parse(answer);
        assertEquals("ci-failure", p.issueType());
        assertTrue(p.labelled());
        assertEquals(List.of("Re-run the job", "Pin the runner image"), p.steps());
        assertEquals("documentation", PromptTemplate.parse("issue TYPE: Documentation").issueType());

        PromptTemplate.Prediction outside = PromptTemplate.parse(answer, List.of("bug", "security"));
        assertEquals(PromptTemplate.UNKNOWN, outside.issueType());
        assertFalse(outside.labelled());
        assertEquals(p.steps(), outside.steps(), "the steps are read either way");
        assertEquals("security", PromptTemplate.parse("Issue type: security", List.of("bug", "security")).issueType());

        // A dataset may have a label "unknown": an answer without a type must not match it.
        assertFalse(PromptTemplate.parse("no type here", List.of("unknown")).labelled());
        assertTrue(PromptTemplate.parse("Issue type: unknown", List.of("unknown")).labelled());
    }
}
