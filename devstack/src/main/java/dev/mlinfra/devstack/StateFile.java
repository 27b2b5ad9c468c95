package dev.mlinfra.devstack;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The state file that {@code run} writes once every server answers: Java properties, written
 * atomically (temporary file in the same directory, then rename) so that a reader never sees
 * half of it. JDK only.
 */
public final class StateFile {

    public static final String POSTGRES_HOST = "postgres.host";
    public static final String POSTGRES_PORT = "postgres.port";
    public static final String POSTGRES_USERNAME = "postgres.username";
    public static final String POSTGRES_PASSWORD = "postgres.password";
    public static final String KAFKA_BOOTSTRAP_SERVERS = "kafka.bootstrap.servers";
    public static final String S3_ENDPOINT = "s3.endpoint";
    public static final String S3_ACCESS_KEY = "s3.access-key";
    public static final String S3_SECRET_KEY = "s3.secret-key";
    public static final String S3_REGION = "s3.region";
    public static final String PID = "pid";

    private StateFile() {
    }

    public static void write(Path file, Map<String, String> entries) throws IOException {
        Path target = file.toAbsolutePath();
        Files.createDirectories(target.getParent());
        StringWriter text = new StringWriter();
        text.write("# mlinfra devstack: servers and credentials (rewritten by every run)\n");
        for (Map.Entry<String, String> entry : new TreeMap<>(entries).entrySet()) {
            // Properties#store escapes keys and values; one entry at a time keeps the file sorted.
            Properties one = new Properties();
            one.setProperty(entry.getKey(), entry.getValue());
            StringWriter line = new StringWriter();
            one.store(line, null);
            line.toString().lines().filter(l -> !l.startsWith("#")).forEach(l -> text.write(l + "\n"));
        }
        Path temp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
        try {
            Files.writeString(temp, text.toString(), StandardCharsets.UTF_8);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    public static Map<String, String> read(Path file) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        }
        Map<String, String> entries = new TreeMap<>();
        properties.stringPropertyNames().forEach(key -> entries.put(key, properties.getProperty(key)));
        return entries;
    }

    /** Deletes the state file if it still describes the given process (a newer run may have replaced it). */
    public static void deleteIfOwnedBy(Path file, long pid) {
        try {
            if (Files.exists(file) && Long.toString(pid).equals(read(file).get(PID))) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            // a state file that cannot be read is not ours to delete
        }
    }
}
