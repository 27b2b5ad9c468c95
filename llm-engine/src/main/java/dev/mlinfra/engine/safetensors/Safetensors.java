package dev.mlinfra.engine.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
 * mapping each tensor name to {@code dtype}, {@code shape} and {@code data_offsets} (relative to
 * the end of the header), an optional {@code __metadata__} string map, then the raw little-endian
 * tensor bytes. Tensors are written in name order, densely packed; the header is padded with
 * spaces to a multiple of 8 bytes.
 */
public final class Safetensors {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Refuse headers larger than the format's own limit (100 MB). */
    private static final long MAX_HEADER = 100L * 1024 * 1024;

    private Safetensors() {
    }

    /** Serialises tensors (and string metadata) into safetensors bytes. */
    public static byte[] write(Map<String, Tensor> tensors, Map<String, String> metadata) {
        Map<String, Tensor> sorted = new TreeMap<>(tensors);
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            new TreeMap<>(metadata).forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
            Tensor t = e.getValue();
            ObjectNode entry = header.putObject(e.getKey());
            entry.put("dtype", t.dtype().name());
            var shape = entry.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            var offsets = entry.putArray("data_offsets");
            offsets.add(offset);
            offset += t.data().length;
            offsets.add(offset);
        }
        byte[] headerBytes;
        try {
            headerBytes = JSON.writeValueAsBytes(header);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        int padded = (headerBytes.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(8 + padded + offset)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded);
        out.put(headerBytes);
        for (int i = headerBytes.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        for (Tensor t : sorted.values()) {
            out.put(t.data());
        }
        return out.array();
    }

    /** Writes a safetensors file atomically (temporary file, then rename). */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (OutputStream os = Files.newOutputStream(tmp)) {
            os.write(write(tensors, metadata));
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Parsed safetensors content. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
    }

    /** Reads and validates a safetensors file. */
    public static Contents read(Path file) throws IOException {
        return read(Files.readAllBytes(file));
    }

    /** Parses and validates safetensors bytes (offsets contiguous, in bounds, sizes match dtype x shape). */
    public static Contents read(byte[] bytes) throws IOException {
        if (bytes.length < 8) {
            throw new IOException("safetensors: file shorter than its 8-byte header length");
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen = buf.getLong();
        if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > bytes.length) {
            throw new IOException("safetensors: invalid header length " + headerLen);
        }
        String headerText = new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8);
        JsonNode header = JSON.readTree(headerText);
        if (header == null || !header.isObject()) {
            throw new IOException("safetensors: header is not a JSON object");
        }
        long dataStart = 8 + headerLen;
        long dataLen = bytes.length - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            JsonNode node = e.getValue();
            DType dtype;
            try {
                dtype = DType.valueOf(node.path("dtype").asText());
            } catch (IllegalArgumentException ex) {
                throw new IOException("safetensors: tensor " + e.getKey() + " has unsupported dtype " + node.path("dtype"));
            }
            JsonNode shapeNode = node.path("shape");
            long[] shape = new long[shapeNode.size()];
            long count = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = shapeNode.get(i).asLong();
                count *= shape[i];
            }
            long begin = node.path("data_offsets").path(0).asLong(-1);
            long end = node.path("data_offsets").path(1).asLong(-1);
            if (begin < 0 || end < begin || end > dataLen) {
                throw new IOException("safetensors: tensor " + e.getKey() + " has offsets out of bounds");
            }
            if (end - begin != count * dtype.size) {
                throw new IOException("safetensors: tensor " + e.getKey() + " holds " + (end - begin)
                        + " bytes, its shape and dtype need " + count * dtype.size);
            }
            byte[] data = new byte[(int) (end - begin)];
            System.arraycopy(bytes, (int) (dataStart + begin), data, 0, data.length);
            tensors.put(e.getKey(), new Tensor(dtype, shape, data));
        }
        return new Contents(tensors, metadata);
    }
}
