package dev.mlinfra.engine.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The corpus builder against a local HTTP server serving a jar and an npm-style tarball: what is
 * extracted and cleaned, what is dropped, the checksum check, the cache, and that two builds
 * give the same bytes.
 */
class CorpusBuilderTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    private HttpServer server;
    private final Map<String, byte[]> served = new ConcurrentHashMap<>();
    private final AtomicInteger downloads = new AtomicInteger();

    @BeforeEach
    void serve() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            byte[] body = served.get(exchange.getRequestURI().getPath());
            downloads.incrementAndGet();
            if (body == null) {
                exchange.sendResponseHeaders(404, -1);
            } else {
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void extractsCleanDocumentsOnceAndReproducibly() throws Exception {
        byte[] jar = jar(Map.of(
                "io/example/models/V1Widget.java", """
                        @ApiModel(description = "Widget is the specification of a <b>widget</b>; see https://example.com/widgets for more.")
                        public class V1Widget {
                          @ApiModelProperty(value = "Number of desired widgets. Defaults to 1. This is a \\"pointer\\" to distinguish zero.")
                          private Integer replicas;
                          @ApiModelProperty(value = "Short.")
                          private String name;
                        }
                        """,
                "io/example/api/WidgetApi.java", "@ApiModelProperty(value = \"Never read: this file is not included at all.\")"));
        byte[] tgz = tarGz(Map.of(
                "package/types.d.ts", """
                        /**
                         * @description Create an issue in a repository, if the {@link Repository repository} has issues enabled.
                         *
                         * See [the guide](https://docs.example.com/issues) for the rules.
                         */
                        /**
                         * Lists the deployments of a repository ordered by creation date.
                         * @param owner the owner
                         * @example ```ts
                         * list()
                         * ```
                         */
                        /** Number of desired widgets. Defaults to 1. This is a "pointer" to distinguish zero. */
                        """,
                "package/README.md", "/** Not a declaration file: excluded. Long enough to be kept otherwise. */"));
        served.put("/maven/widgets-1.0-sources.jar", jar);
        served.put("/npm/types-2.0.tgz", tgz);
        Path manifest = manifest(sha256(jar), sha256(tgz));

        CorpusBuilder.Stats first = new CorpusBuilder(CorpusManifest.read(manifest), tmp.resolve("cache")).build(tmp.resolve("a"));
        List<JsonNode> docs = read(tmp.resolve("a").resolve(CorpusBuilder.CORPUS));
        List<String> texts = docs.stream().map(d -> d.path("text").asText()).toList();
        assertEquals(List.of(
                "Widget is the specification of a widget ; see for more.",
                "Number of desired widgets. Defaults to 1. This is a \"pointer\" to distinguish zero.",
                "Create an issue in a repository, if the repository has issues enabled. See the guide for the rules.",
                "Lists the deployments of a repository ordered by creation date."), texts,
                "markup, links and URLs removed; tags other than @description dropped; the repeated and the short"
                        + " document and the files not included left out");
        assertEquals(List.of("widgets", "widgets", "types", "types"), docs.stream().map(d -> d.path("source").asText()).toList());
        for (JsonNode d : docs) {
            String split = d.path("split").asText();
            assertTrue(split.equals(CorpusBuilder.TRAIN) || split.equals(CorpusBuilder.HELDOUT), split);
        }
        assertEquals(2, downloads.get());

        CorpusBuilder.Stats second = new CorpusBuilder(CorpusManifest.read(manifest), tmp.resolve("cache")).build(tmp.resolve("b"));
        assertEquals(2, downloads.get(), "the second build reads the cached archives");
        assertEquals(first.asMap().get("sha256"), second.asMap().get("sha256"));
        assertEquals(Files.readString(tmp.resolve("a").resolve(CorpusBuilder.CORPUS)),
                Files.readString(tmp.resolve("b").resolve(CorpusBuilder.CORPUS)));
    }

    @Test
    void refusesAnArchiveWhoseChecksumDiffersFromTheManifest() throws Exception {
        byte[] jar = jar(Map.of("io/example/models/V1A.java", "@ApiModelProperty(value = \"Something long enough to be a document.\")"));
        served.put("/maven/widgets-1.0-sources.jar", jar);
        served.put("/npm/types-2.0.tgz", tarGz(Map.of("package/types.d.ts", "")));
        Path manifest = manifest("0".repeat(64), "0".repeat(64));
        IOException e = assertThrows(IOException.class,
                () -> new CorpusBuilder(CorpusManifest.read(manifest), tmp.resolve("cache")).build(tmp.resolve("out")));
        assertTrue(e.getMessage().contains("example:widgets:1.0:sources") && e.getMessage().contains(sha256(jar))
                && e.getMessage().contains("the corpus manifest says " + "0".repeat(64)), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("cache").resolve("0".repeat(64))), "a refused download is not cached");
    }

    @Test
    void heldOutDocumentsDependOnlyOnTheirText() throws Exception {
        Path manifest = manifest("a".repeat(64), "b".repeat(64));
        CorpusBuilder builder = new CorpusBuilder(CorpusManifest.read(manifest), tmp);
        int heldout = 0;
        for (int i = 0; i < 1000; i++) {
            String doc = "Document number " + i + " about a deployment.";
            assertEquals(builder.heldout(doc), builder.heldout(doc));
            heldout += builder.heldout(doc) ? 1 : 0;
        }
        // one in 3 (the manifest's heldout_every) expected: 333 +- a few standard deviations
        assertTrue(heldout > 280 && heldout < 390, "held out " + heldout + " of 1000");
    }

    private Path manifest(String jarSha, String tgzSha) throws IOException {
        String base = "http://127.0.0.1:" + server.getAddress().getPort();
        Path file = tmp.resolve("manifest.json");
        Files.writeString(file, """
                {"format": "mlinfra-corpus-v1", "heldout_every": 3, "min_chars": 20, "sources": [
                  {"name": "widgets", "registry": "maven", "coordinates": "example:widgets:1.0:sources", "license": "Apache-2.0",
                   "url": "%s/maven/widgets-1.0-sources.jar", "sha256": "%s",
                   "extract": {"type": "swagger-annotations", "include": ["io/example/models/*.java"]}},
                  {"name": "types", "registry": "npm", "coordinates": "types@2.0", "license": "MIT",
                   "url": "%s/npm/types-2.0.tgz", "sha256": "%s",
                   "extract": {"type": "doc-comments", "include": ["package/**.d.ts"], "exclude": ["package/node_modules/**"]}}]}
                """.formatted(base, jarSha, base, tgzSha));
        return file;
    }

    private static List<JsonNode> read(Path corpus) throws IOException {
        return Files.readAllLines(corpus).stream().map(l -> {
            try {
                return JSON.readTree(l);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }).toList();
    }

    private static byte[] jar(Map<String, String> files) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            for (String name : new java.util.TreeSet<>(files.keySet())) {
                zip.putNextEntry(new ZipEntry(name));
                zip.write(files.get(name).getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
            }
        }
        return out.toByteArray();
    }

    /** A ustar archive, gzip-compressed, as npm packs packages. */
    private static byte[] tarGz(Map<String, String> files) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            for (String name : new java.util.TreeSet<>(files.keySet())) {
                byte[] data = files.get(name).getBytes(StandardCharsets.UTF_8);
                byte[] header = new byte[512];
                put(header, 0, name);
                put(header, 100, "0000644");
                put(header, 124, String.format("%011o", data.length));
                header[156] = '0';
                put(header, 257, "ustar");
                java.util.Arrays.fill(header, 148, 156, (byte) ' ');
                int sum = 0;
                for (byte b : header) {
                    sum += b & 0xff;
                }
                put(header, 148, String.format("%06o", sum));
                gz.write(header);
                gz.write(data);
                gz.write(new byte[(512 - data.length % 512) % 512]);
            }
            gz.write(new byte[1024]);
        }
        return out.toByteArray();
    }

    private static void put(byte[] header, int offset, String value) {
        byte[] b = value.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, header, offset, b.length);
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
