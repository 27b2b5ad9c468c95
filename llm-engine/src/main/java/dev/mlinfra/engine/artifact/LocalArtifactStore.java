package dev.mlinfra.engine.artifact;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;

/** Artifacts in a local directory; writes are atomic (temporary file, then rename). */
public final class LocalArtifactStore implements ArtifactStore {

    private final Path root;

    public LocalArtifactStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    private Path resolve(String path) {
        Path p = root.resolve(path).normalize();
        if (!p.startsWith(root)) {
            throw new IllegalArgumentException("path escapes the artifact directory: " + path);
        }
        return p;
    }

    @Override
    public void put(String path, byte[] data) throws IOException {
        Path target = resolve(path);
        Files.createDirectories(target.getParent());
        Path tmp = target.resolveSibling(target.getFileName() + ".part");
        Files.write(tmp, data);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    public byte[] get(String path) throws IOException {
        Path p = resolve(path);
        return Files.isRegularFile(p) ? Files.readAllBytes(p) : null;
    }

    @Override
    public InputStream read(String path) throws IOException {
        Path p = resolve(path);
        return Files.isRegularFile(p) ? Files.newInputStream(p) : null;
    }

    @Override
    public List<String> list(String folder) throws IOException {
        Path dir = resolve(folder);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile)
                    .filter(f -> !f.getFileName().toString().endsWith(".part"))
                    .map(f -> root.relativize(f).toString().replace('\\', '/'))
                    .sorted()
                    .toList();
        }
    }

    @Override
    public String uri(String path) {
        return resolve(path).toString();
    }
}
