package dev.mlinfra.engine.artifact;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/**
 * A directory-like place for artifacts: a local directory or an {@code s3://bucket/prefix}.
 * Paths are relative, '/'-separated.
 */
public interface ArtifactStore {

    /** Writes (replaces) a file. */
    void put(String path, byte[] data) throws IOException;

    /** Reads a file, or returns null when it does not exist. */
    byte[] get(String path) throws IOException;

    /** Opens a file for reading as a stream (the caller closes it), or returns null when it does not exist. */
    InputStream read(String path) throws IOException;

    /** Relative paths of the files below a folder (recursive). */
    List<String> list(String folder) throws IOException;

    /** The location of a file as a user would write it. */
    String uri(String path);

    /** Opens a location: {@code s3://bucket/prefix} (needs settings) or a local directory. */
    static ArtifactStore open(String location, S3Settings s3) {
        if (location.startsWith("s3://")) {
            S3Settings settings = s3 != null ? s3 : S3Settings.fromEnvironment();
            if (settings == null) {
                throw new IllegalArgumentException("location " + location + " needs S3 settings (endpoint, access key, secret key)");
            }
            return S3ArtifactStore.open(location, settings);
        }
        String path = location.startsWith("file://") ? location.substring("file://".length()) : location;
        return new LocalArtifactStore(Paths.get(path));
    }

    /** Reads a single file given by a full location ({@code s3://bucket/key} or a local path). */
    static byte[] readLocation(String location, S3Settings s3) throws IOException {
        try (InputStream in = openLocation(location, s3)) {
            return in.readAllBytes();
        }
    }

    /**
     * Opens a single file given by a full location ({@code s3://bucket/key} or a local path) as a
     * stream, so that a file of any size can be read piece by piece; the caller closes it.
     */
    static InputStream openLocation(String location, S3Settings s3) throws IOException {
        if (location.startsWith("s3://")) {
            String rest = location.substring("s3://".length());
            int slash = rest.indexOf('/');
            if (slash <= 0 || slash == rest.length() - 1) {
                throw new IllegalArgumentException("s3 location must be s3://bucket/key, got " + location);
            }
            InputStream in = open("s3://" + rest.substring(0, slash), s3).read(rest.substring(slash + 1));
            if (in == null) {
                throw new java.io.FileNotFoundException(location);
            }
            return in;
        }
        Path p = Paths.get(location.startsWith("file://") ? location.substring("file://".length()) : location);
        return java.nio.file.Files.newInputStream(p);
    }
}
