package dev.mlinfra.engine.corpus;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Reads the files of a jar/zip or a gzip-compressed tar (npm's package tarballs) into memory,
 * sorted by name, so that extraction does not depend on the order an archive lists them in.
 */
final class Archives {

    private static final int BLOCK = 512;

    private Archives() {
    }

    static Map<String, byte[]> read(Path archive, java.util.function.Predicate<String> wanted) throws IOException {
        byte[] head = new byte[2];
        try (InputStream in = Files.newInputStream(archive)) {
            if (in.readNBytes(head, 0, 2) < 2) {
                throw new IOException(archive + " is empty");
            }
        }
        if (head[0] == 'P' && head[1] == 'K') {
            return zip(archive, wanted);
        }
        if ((head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
            return tarGz(archive, wanted);
        }
        throw new IOException(archive + " is neither a zip/jar nor a gzip-compressed tar");
    }

    private static Map<String, byte[]> zip(Path archive, java.util.function.Predicate<String> wanted) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(archive))) {
            for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
                if (!e.isDirectory() && wanted.test(e.getName())) {
                    files.put(e.getName(), zip.readAllBytes());
                }
            }
        }
        return files;
    }

    /** ustar with the GNU long-name and pax {@code path} extensions, which is what npm writes. */
    private static Map<String, byte[]> tarGz(Path archive, java.util.function.Predicate<String> wanted) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        try (InputStream in = new GZIPInputStream(Files.newInputStream(archive), 1 << 16)) {
            byte[] header = new byte[BLOCK];
            String longName = null;
            while (in.readNBytes(header, 0, BLOCK) == BLOCK) {
                if (isZero(header)) {
                    break;
                }
                String name = text(header, 0, 100);
                long size = Long.parseLong(text(header, 124, 12).trim().isEmpty() ? "0" : text(header, 124, 12).trim(), 8);
                char type = (char) header[156];
                String prefix = text(header, 345, 155);
                if (!prefix.isEmpty()) {
                    name = prefix + "/" + name;
                }
                byte[] data = in.readNBytes((int) size);
                long padding = (BLOCK - size % BLOCK) % BLOCK;
                in.skipNBytes(padding);
                switch (type) {
                    case 'L' -> longName = new String(data, StandardCharsets.UTF_8).replace("\0", "");
                    case 'x' -> longName = paxPath(data, longName);
                    case 'g' -> { }
                    case '0', '\0' -> {
                        String path = longName != null ? longName : name;
                        longName = null;
                        if (wanted.test(path)) {
                            files.put(path, data);
                        }
                    }
                    default -> longName = null;
                }
            }
        }
        return files;
    }

    private static String paxPath(byte[] data, String current) {
        String records = new String(data, StandardCharsets.UTF_8);
        for (String line : records.split("\n")) {
            int space = line.indexOf(' ');
            if (space > 0 && line.startsWith("path=", space + 1)) {
                return line.substring(space + 6);
            }
        }
        return current;
    }

    private static String text(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toByteArray();
    }
}
