package dev.mlinfra.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Byte-level tokenizer: ids 0-255 are the bytes of the UTF-8 encoding, the ids after them are the
 * special tokens of the prompt format. Every string (and every byte sequence) is encodable, and
 * every id sequence decodes to valid UTF-8: malformed byte runs become U+FFFD.
 *
 * <p>As a Hugging Face {@code tokenizer.json} it is a BPE model without merges whose vocabulary
 * is the 256 byte tokens {@code <0x00>}..{@code <0xFF>} with {@code byte_fallback}, plus the
 * special tokens as added tokens, so HF tokenizers produce the same ids.
 */
public final class ByteTokenizer {

    public static final String BEGIN_OF_TEXT = "<|begin_of_text|>";
    public static final String END_OF_TEXT = "<|end_of_text|>";
    public static final String HEADER_START = "<|header_start|>";
    public static final String HEADER_END = "<|header_end|>";
    public static final String EOT = "<|eot|>";
    public static final String PAD = "<|finetune_right_pad|>";

    /** The special tokens of the miniature, in id order after the 256 byte ids. */
    public static final List<String> DEFAULT_SPECIALS = List.of(BEGIN_OF_TEXT, END_OF_TEXT, HEADER_START, HEADER_END,
            EOT, PAD, "<|reserved_special_token_0|>", "<|reserved_special_token_1|>");

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final int BYTES = 256;

    private final List<String> specials;
    private final Map<String, Integer> specialIds = new LinkedHashMap<>();

    /** A tokenizer with the default special tokens. */
    public ByteTokenizer() {
        this(DEFAULT_SPECIALS);
    }

    /** A tokenizer with the given special tokens at ids 256, 257, ... */
    public ByteTokenizer(List<String> specials) {
        this.specials = List.copyOf(specials);
        for (int i = 0; i < this.specials.size(); i++) {
            specialIds.put(this.specials.get(i), BYTES + i);
        }
    }

    /** Number of ids this tokenizer produces. */
    public int vocabSize() {
        return BYTES + specials.size();
    }

    /** Id of a special token. */
    public int specialId(String token) {
        Integer id = specialIds.get(token);
        if (id == null) {
            throw new IllegalArgumentException("not a special token: " + token);
        }
        return id;
    }

    /** True when the id is a special token. */
    public boolean isSpecial(int id) {
        return id >= BYTES;
    }

    /** Encodes text as bytes only: special-token strings in it are plain text. */
    public int[] encode(String text) {
        return encodeBytes(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Encodes arbitrary bytes. */
    public int[] encodeBytes(byte[] bytes) {
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = bytes[i] & 0xff;
        }
        return ids;
    }

    /** Encodes text in which special-token strings (e.g. {@code <|eot|>}) become their ids. */
    public int[] encodeWithSpecials(String text) {
        List<int[]> parts = new ArrayList<>();
        int total = 0;
        int start = 0;
        int i = 0;
        while (i < text.length()) {
            String match = null;
            if (text.charAt(i) == '<') {
                for (String s : specials) {
                    if (text.startsWith(s, i)) {
                        match = s;
                        break;
                    }
                }
            }
            if (match == null) {
                i++;
                continue;
            }
            int[] plain = encode(text.substring(start, i));
            parts.add(plain);
            parts.add(new int[] {specialIds.get(match)});
            total += plain.length + 1;
            i += match.length();
            start = i;
        }
        int[] tail = encode(text.substring(start));
        parts.add(tail);
        total += tail.length;
        int[] out = new int[total];
        int pos = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, pos, p.length);
            pos += p.length;
        }
        return out;
    }

    /** Decodes ids to text; special tokens are dropped when {@code skipSpecial}, else written as their strings. */
    public String decode(int[] ids, boolean skipSpecial) {
        StringBuilder out = new StringBuilder();
        ByteArrayOutputStream pending = new ByteArrayOutputStream();
        for (int id : ids) {
            if (id >= 0 && id < BYTES) {
                pending.write(id);
                continue;
            }
            out.append(decodeUtf8(pending.toByteArray()));
            pending.reset();
            if (!skipSpecial && id < vocabSize()) {
                out.append(specials.get(id - BYTES));
            }
        }
        out.append(decodeUtf8(pending.toByteArray()));
        return out.toString();
    }

    /** Decodes ids, dropping special tokens. */
    public String decode(int[] ids) {
        return decode(ids, true);
    }

    static String decodeUtf8(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE);
        try {
            return decoder.decode(ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A decoder for streamed generation: it emits text only once a UTF-8 sequence is complete. */
    public StreamDecoder streamDecoder() {
        return new StreamDecoder();
    }

    /** Incremental decoder that never splits a multi-byte character. */
    public final class StreamDecoder {
        private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE);
        private ByteBuffer pending = ByteBuffer.allocate(8);

        /** Feeds one id and returns the text it completes (possibly empty). Special ids give nothing. */
        public String accept(int id) {
            if (id < 0 || id >= BYTES) {
                return "";
            }
            if (!pending.hasRemaining()) {
                pending = ByteBuffer.allocate(pending.capacity() * 2).put(pending.flip());
            }
            pending.put((byte) id);
            pending.flip();
            CharBuffer chars = CharBuffer.allocate(pending.remaining() + 2);
            decoder.decode(pending, chars, false);
            pending.compact();
            return chars.flip().toString();
        }

        /** Flushes an incomplete trailing sequence as U+FFFD. */
        public String finish() {
            pending.flip();
            CharBuffer chars = CharBuffer.allocate(pending.remaining() + 2);
            decoder.decode(pending, chars, true);
            decoder.flush(chars);
            pending.clear();
            return chars.flip().toString();
        }
    }

    /** The Hugging Face tokenizer.json of this tokenizer. */
    public byte[] toHuggingFaceJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < specials.size(); i++) {
            ObjectNode t = added.addObject();
            t.put("id", BYTES + i);
            t.put("content", specials.get(i));
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
        }
        root.putNull("normalizer");
        root.putNull("pre_tokenizer");
        root.putNull("post_processor");
        ObjectNode decoder = root.putObject("decoder");
        decoder.put("type", "Sequence");
        ArrayNode decoders = decoder.putArray("decoders");
        decoders.addObject().put("type", "ByteFallback");
        decoders.addObject().put("type", "Fuse");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", true);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int b = 0; b < BYTES; b++) {
            vocab.put(String.format("<0x%02X>", b), b);
        }
        model.putArray("merges");
        try {
            return JSON.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads a tokenizer.json written by {@link #toHuggingFaceJson()}. */
    public static ByteTokenizer fromHuggingFaceJson(byte[] json) throws IOException {
        JsonNode root = JSON.readTree(json);
        JsonNode vocab = root.path("model").path("vocab");
        for (int b = 0; b < BYTES; b++) {
            if (vocab.path(String.format("<0x%02X>", b)).asInt(-1) != b) {
                throw new IOException("tokenizer.json is not a byte-level tokenizer of this engine (byte " + b + ")");
            }
        }
        List<String> specials = new ArrayList<>(Collections.nCopies(root.path("added_tokens").size(), (String) null));
        for (JsonNode t : root.path("added_tokens")) {
            int idx = t.path("id").asInt() - BYTES;
            if (idx < 0 || idx >= specials.size()) {
                throw new IOException("tokenizer.json: added token ids must follow the 256 byte ids");
            }
            specials.set(idx, t.path("content").asText());
        }
        return new ByteTokenizer(specials);
    }

    /** Writes tokenizer.json. */
    public void write(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, toHuggingFaceJson());
    }
}
