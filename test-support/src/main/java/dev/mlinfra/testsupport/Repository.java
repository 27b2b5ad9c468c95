package dev.mlinfra.testsupport;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the repository and the calling module are, as seen from a test JVM. */
final class Repository {

    private Repository() {
    }

    /**
     * The repository root: system property {@code mlinfra.root} (set by surefire in every module),
     * else the nearest directory above the working directory holding {@code mvnw} and {@code devstack/}.
     */
    static Path root() {
        String configured = System.getProperty("mlinfra.root");
        if (configured != null && !configured.isBlank() && !configured.contains("${")) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        for (Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("mvnw")) && Files.isDirectory(dir.resolve("devstack"))) {
                return dir;
            }
        }
        throw new IllegalStateException("cannot find the mlinfra repository: set the system property mlinfra.root"
                + " (the parent pom passes it to surefire) or run from inside the repository");
    }

    /** The module whose tests run in this JVM (surefire's {@code basedir}, else the working directory). */
    static Path callingModule() {
        String basedir = System.getProperty("basedir");
        return Path.of(basedir != null && !basedir.isBlank() ? basedir : System.getProperty("user.dir")).toAbsolutePath();
    }
}
