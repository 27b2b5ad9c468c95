package dev.mlinfra.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ByteTokenizerTest {

    private final ByteTokenizer tokenizer = new ByteTokenizer();

    @Test
    void arbitraryUnicodeTextRoundTrips() {
        Random random = new Random(7);
        for (int n = 0; n < 500; n++) {
            StringBuilder sb = new StringBuilder();
            int len = random.nextInt(40);
            for (int i = 0; i < len; i++) {
                int cp;
                do {
                    cp = random.nextInt(4) == 0 ? random.nextInt(0x110000) : random.nextInt(0x800);
                } while (cp >= 0xD800 && cp <= 0xDFFF);
                sb.appendCodePoint(cp);
            }
            String text = sb.toString();
            assertEquals(text, tokenizer.decode(tokenizer.encode(text)));
        }
    }

    @Test
    void emojiScriptsAndControlCharactersRoundTrip() {
        String text = "kubectl logs 🚀 — Ünïcödé 中文 العربية \u0000\t\n\r <|eot|> is text here";
        int[] ids = tokenizer.encode(text);
        assertEquals(text.getBytes(StandardCharsets.UTF_8).length, ids.length);
        assertEquals(text, tokenizer.decode(ids));
    }

    @Test
    void everyByteSequenceEncodesAndDecodesToValidUtf8() throws Exception {
        Random random = new Random(11);
        var decoder = StandardCharsets.UTF_8.newDecoder();
        for (int n = 0; n < 500; n++) {
            byte[] bytes = new byte[random.nextInt(64)];
            random.nextBytes(bytes);
            int[] ids = tokenizer.encodeBytes(bytes);
            for (int i = 0; i < bytes.length; i++) {
                assertEquals(bytes[i] & 0xff, ids[i]);
            }
            String text = tokenizer.decode(ids);
            // Re-encoding the decoded text and decoding it strictly must succeed: it is valid UTF-8.
            decoder.decode(java.nio.ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
            if (isValidUtf8(bytes)) {
                assertArrayEquals(bytes, text.getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void specialTokensAreParsedOnlyWhenAsked() {
        int eot = tokenizer.specialId(ByteTokenizer.EOT);
        assertArrayEquals(new int[] {'a', eot, 'b'}, tokenizer.encodeWithSpecials("a<|eot|>b"));
        assertEquals(9, tokenizer.encode("a<|eot|>b").length);
        assertEquals("ab", tokenizer.decode(new int[] {'a', eot, 'b'}));
        assertEquals("a<|eot|>b", tokenizer.decode(new int[] {'a', eot, 'b'}, false));
    }

    @Test
    void streamDecoderNeverSplitsACharacter() {
        String text = "né 🚀 中";
        ByteTokenizer.StreamDecoder stream = tokenizer.streamDecoder();
        StringBuilder out = new StringBuilder();
        for (int id : tokenizer.encode(text)) {
            String piece = stream.accept(id);
            assertTrue(piece.chars().noneMatch(c -> c == 0xFFFD));
            out.append(piece);
        }
        out.append(stream.finish());
        assertEquals(text, out.toString());
    }

    @Test
    void huggingFaceJsonDescribesTheSameVocabulary() throws Exception {
        JsonNode json = new ObjectMapper().readTree(tokenizer.toHuggingFaceJson());
        assertEquals("BPE", json.path("model").path("type").asText());
        assertTrue(json.path("model").path("byte_fallback").asBoolean());
        assertEquals(0x41, json.path("model").path("vocab").path("<0x41>").asInt());
        assertEquals(256, json.path("model").path("vocab").size());
        assertEquals(tokenizer.specialId(ByteTokenizer.EOT), findAdded(json, ByteTokenizer.EOT));
        ByteTokenizer reread = ByteTokenizer.fromHuggingFaceJson(tokenizer.toHuggingFaceJson());
        assertEquals(tokenizer.vocabSize(), reread.vocabSize());
        assertArrayEquals(tokenizer.encodeWithSpecials("x<|header_start|>y"), reread.encodeWithSpecials("x<|header_start|>y"));
    }

    private static int findAdded(JsonNode json, String content) {
        for (JsonNode t : json.path("added_tokens")) {
            if (t.path("content").asText().equals(content)) {
                assertTrue(t.path("special").asBoolean());
                return t.path("id").asInt();
            }
        }
        return -1;
    }

    private static boolean isValidUtf8(byte[] bytes) {
        try {
            StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes));
            return true;
        } catch (java.nio.charset.CharacterCodingException e) {
            return false;
        }
    }
}
