package dev.mlinfra.engine.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Checks written files against the format's specification, read independently of the reader. */
class SafetensorsTest {

    @Test
    void writtenFilesFollowTheSpecification() throws Exception {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("b.weight", Tensor.ofFloats(new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6}));
        tensors.put("a.bias", Tensor.ofFloats(new long[] {3}, new float[] {-1, 0.5f, 7}));
        byte[] file = Safetensors.write(tensors, Map.of("format", "pt"));

        ByteBuffer buf = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen = buf.getLong();
        assertEquals(0, headerLen % 8, "header is padded to 8 bytes");
        String header = new String(file, 8, (int) headerLen, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{"), "header starts with '{'");
        assertTrue(header.stripTrailing().endsWith("}"), "header is padded with spaces only");
        JsonNode json = new ObjectMapper().readTree(header);
        assertEquals("pt", json.path("__metadata__").path("format").asText());

        long dataLen = file.length - 8 - headerLen;
        long expectedStart = 0;
        for (Iterator<String> names = json.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (name.equals("__metadata__")) {
                continue;
            }
            JsonNode entry = json.get(name);
            assertEquals("F32", entry.path("dtype").asText());
            long begin = entry.path("data_offsets").get(0).asLong();
            long end = entry.path("data_offsets").get(1).asLong();
            long count = 1;
            for (JsonNode d : entry.path("shape")) {
                count *= d.asLong();
            }
            assertEquals(expectedStart, begin, "tensors are contiguous without holes");
            assertEquals(count * 4, end - begin);
            expectedStart = end;
        }
        assertEquals(dataLen, expectedStart, "the data section holds exactly the tensors");

        JsonNode b = json.get("b.weight");
        assertEquals(2, b.path("shape").get(0).asInt());
        int start = (int) (8 + headerLen + b.path("data_offsets").get(0).asLong());
        ByteBuffer data = ByteBuffer.wrap(file, start, 24).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 1; i <= 6; i++) {
            assertEquals(i, data.getFloat(), 0f, "little-endian row-major values");
        }
    }

    @Test
    void filesRoundTrip() throws Exception {
        Map<String, Tensor> tensors = Map.of("w", Tensor.ofFloats(new long[] {2, 2}, new float[] {1, -2, 3.5f, 1e-9f}));
        Safetensors.Contents read = Safetensors.read(Safetensors.write(tensors, Map.of("k", "v")));
        assertArrayEquals(new float[] {1, -2, 3.5f, 1e-9f}, read.tensors().get("w").toFloats());
        assertArrayEquals(new long[] {2, 2}, read.tensors().get("w").shape());
        assertEquals("v", read.metadata().get("k"));
    }

    @Test
    void readsOtherDtypesAndRejectsCorruptFiles() throws Exception {
        String header = "{\"x\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                + "\"y\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[4,12]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + 12).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h);
        buf.putShort((short) (Float.floatToIntBits(1.5f) >>> 16)).putShort((short) (Float.floatToIntBits(-2f) >>> 16));
        buf.putDouble(0.25);
        Safetensors.Contents c = Safetensors.read(buf.array());
        assertArrayEquals(new float[] {1.5f, -2f}, c.tensors().get("x").toFloats());
        assertArrayEquals(new float[] {0.25f}, c.tensors().get("y").toFloats());

        byte[] truncated = java.util.Arrays.copyOf(buf.array(), buf.array().length - 3);
        assertThrows(java.io.IOException.class, () -> Safetensors.read(truncated));
        byte[] badLength = buf.array().clone();
        ByteBuffer.wrap(badLength).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        assertThrows(java.io.IOException.class, () -> Safetensors.read(badLength));
    }
}
