package dev.mlinfra.training.backend;

/**
 * Whether a backend can start a trainer now, and which trainer it would start; for the platform's
 * status page, which shows it without launching anything.
 *
 * @param backend   the backend's name ({@link TrainingBackend#name()})
 * @param version   the trainer's version (llm-engine's), null when the backend cannot tell
 * @param engineJar the trainer's jar as an absolute path, for backends that run one (null otherwise)
 * @param canStart  whether a job granted capacity now would get a trainer
 * @param reason    why not, in words a person can act on; null when {@code canStart}
 */
public record BackendStatus(String backend, String version, String engineJar, boolean canStart, String reason) {

    public BackendStatus {
        if (canStart != (reason == null)) {
            throw new IllegalArgumentException("a backend that cannot start a trainer says why, and only then");
        }
    }

    public static BackendStatus ready(String backend, String version, String engineJar) {
        return new BackendStatus(backend, version, engineJar, true, null);
    }

    public static BackendStatus unable(String backend, String version, String engineJar, String reason) {
        return new BackendStatus(backend, version, engineJar, false, reason);
    }
}
