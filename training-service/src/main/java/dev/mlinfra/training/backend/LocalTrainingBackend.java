package dev.mlinfra.training.backend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlinfra.training.backend.TrainerExit.Outcome;
import dev.mlinfra.training.config.TrainingConfig;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import org.jboss.logging.Logger;

/**
 * The embedded backend: each job's trainer is an llm-engine process on this machine, like a pod,
 * started with this service's own JDK (21+). A job has a folder under
 * {@code mlinfra.training.local.work-dir} with its spec ({@code spec.json}, readable by the owner
 * only: it holds the object store's credentials) and its trainer's output ({@code trainer.log}:
 * the JSON lines of its progress and its log). A trainer is recognised by its spec's path on its
 * command line, so after a restart of the service the trainers that kept running are found again
 * and followed; their exit code is then unknown ({@link Outcome#LOST}).
 *
 * <p>Exit codes (llm-engine's): 0 trained, 1 failed (the reason is the trainer's last
 * {@code failed} line), 2 spec refused, 3 stopped after a checkpoint; a signal (e.g. {@code kill -9})
 * ends it as failed.
 */
@ApplicationScoped
@Identifier(LocalTrainingBackend.NAME)
public class LocalTrainingBackend implements TrainingBackend {

    public static final String NAME = "local";
    private static final Logger LOG = Logger.getLogger(LocalTrainingBackend.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String SPEC = "spec.json";
    static final String LOG_FILE = "trainer.log";
    /** How each launch's part of a trainer log begins. */
    static final String LAUNCH_HEADER = "==== ";
    /** How much of the end of a trainer's log is read for the reason it failed. */
    private static final int LOG_TAIL_BYTES = 64 * 1024;
    private static final int EXIT_FAILED = 1;
    private static final int EXIT_USAGE = 2;
    private static final int EXIT_STOPPED = 3;
    private static final int SIGNAL_BASE = 128;

    private final TrainingConfig.Local config;
    private final Map<String, ProcessHandle> followed = new ConcurrentHashMap<>();
    private volatile Consumer<TrainerExit> listener = exit -> {
    };

    public LocalTrainingBackend(TrainingConfig config) {
        this.config = config.local();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void onExit(Consumer<TrainerExit> listener) {
        this.listener = listener;
    }

    Path jobDir(String jobId) {
        return Path.of(config.workDir()).toAbsolutePath().resolve(jobId);
    }

    @Override
    public BackendStatus status() {
        return status(config, javaHome());
    }

    /**
     * What {@link #status()} and {@link #launch} check: a trainer jar that can be read (its
     * manifest's {@code Implementation-Version} is the trainer's version), a java launcher to run it
     * with, and a work directory to give each job its folder in. The JDK is a parameter so that a
     * test can name one without a launcher.
     */
    static BackendStatus status(TrainingConfig.Local config, Path javaHome) {
        if (config.engineJar().isEmpty()) {
            return BackendStatus.unable(NAME, null, null, "the local training backend has no trainer: set"
                    + " mlinfra.training.local.engine-jar to llm-engine's jar (llm-engine/target/llm-engine.jar)");
        }
        Path jar = Path.of(config.engineJar().get()).toAbsolutePath();
        String jarPath = jar.toString();
        if (!Files.isRegularFile(jar)) {
            return BackendStatus.unable(NAME, null, jarPath, "the trainer " + jar + " does not exist; build it with"
                    + " ./mvnw -pl llm-engine package, or point mlinfra.training.local.engine-jar at llm-engine's jar");
        }
        if (!Files.isReadable(jar)) {
            return BackendStatus.unable(NAME, null, jarPath, "the trainer " + jar
                    + " cannot be read by the user this service runs as; make it readable");
        }
        String version;
        try {
            version = implementationVersion(jar);
        } catch (IOException e) {
            return BackendStatus.unable(NAME, null, jarPath, "the trainer " + jar + " is not a jar that can be opened ("
                    + e.getMessage() + "); build it again with ./mvnw -pl llm-engine package");
        }
        Path java = javaLauncher(javaHome);
        if (!Files.isExecutable(java)) {
            return BackendStatus.unable(NAME, version, jarPath, "there is no java launcher at " + java
                    + " to start trainers with; run this service on a full JDK (21 or later)");
        }
        Path workDir = Path.of(config.workDir()).toAbsolutePath();
        try {
            Files.createDirectories(workDir);
        } catch (IOException e) {
            return BackendStatus.unable(NAME, version, jarPath, "the work directory " + workDir + " cannot be created ("
                    + describe(e) + "); set mlinfra.training.local.work-dir to a directory this service can write");
        }
        if (!Files.isWritable(workDir)) {
            return BackendStatus.unable(NAME, version, jarPath, "the work directory " + workDir
                    + " is not writable by the user this service runs as; make it writable or set"
                    + " mlinfra.training.local.work-dir to another directory");
        }
        return BackendStatus.ready(NAME, version, jarPath);
    }

    /** The jar's {@code Implementation-Version} (llm-engine's build writes it); null for a jar built without it. */
    static String implementationVersion(Path jar) throws IOException {
        try (JarFile file = new JarFile(jar.toFile(), false)) {
            Manifest manifest = file.getManifest();
            return manifest == null ? null : manifest.getMainAttributes().getValue(Attributes.Name.IMPLEMENTATION_VERSION);
        }
    }

    private static String describe(IOException e) {
        return switch (e) {
            case FileAlreadyExistsException f -> f.getFile() + " is a file, not a directory";
            case AccessDeniedException a -> "permission denied on " + a.getFile();
            default -> e.getMessage();
        };
    }

    private static Path javaHome() {
        return Path.of(System.getProperty("java.home"));
    }

    private static Path javaLauncher(Path javaHome) {
        return javaHome.resolve("bin").resolve("java");
    }

    @Override
    public void launch(String jobId, int attempt, ObjectNode spec) {
        BackendStatus status = status();
        if (!status.canStart()) {
            throw new LaunchException(status.reason(), null);
        }
        Path dir = jobDir(jobId);
        Path specFile = dir.resolve(SPEC);
        List<String> command = new ArrayList<>();
        command.add(javaLauncher(javaHome()).toString());
        Arrays.stream(config.jvmOptions().trim().split("\\s+")).filter(o -> !o.isEmpty()).forEach(command::add);
        command.add("-Dmlinfra.data-dir=" + Path.of(config.engineDataDir()).toAbsolutePath());
        command.addAll(List.of("-jar", status.engineJar(), "train", "--spec", specFile.toString()));
        try {
            Files.createDirectories(dir);
            writePrivately(specFile, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(spec));
            Path log = dir.resolve(LOG_FILE);
            Files.writeString(log, LAUNCH_HEADER + java.time.Instant.now() + " launching the trainer of " + jobId + "\n",
                    StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            Process process = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            LOG.infof("Trainer of %s started (pid %d), log %s", jobId, process.pid(), log);
            followed.put(jobId, process.toHandle());
            process.onExit().thenAcceptAsync(p -> ended(jobId, p.toHandle(), exitOf(jobId, p.exitValue())),
                    Infrastructure.getDefaultWorkerPool());
        } catch (IOException e) {
            throw new LaunchException("the trainer of " + jobId + " could not be started: " + e.getMessage(), e);
        }
    }

    private static void writePrivately(Path file, byte[] content) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(file, content);
    }

    @Override
    public void stop(String jobId) {
        handle(jobId).ifPresent(h -> {
            LOG.infof("Asking the trainer of %s (pid %d) to stop", jobId, h.pid());
            h.destroy();
        });
    }

    @Override
    public void kill(String jobId) {
        handle(jobId).ifPresent(h -> {
            LOG.warnf("Killing the trainer of %s (pid %d)", jobId, h.pid());
            h.destroyForcibly();
        });
    }

    @Override
    public boolean running(String jobId) {
        return handle(jobId).isPresent();
    }

    /** The live trainer of a job: one this service follows, or one found by its spec on a command line. */
    private Optional<ProcessHandle> handle(String jobId) {
        ProcessHandle known = followed.get(jobId);
        if (known != null && known.isAlive()) {
            return Optional.of(known);
        }
        String spec = jobDir(jobId).resolve(SPEC).toString();
        Optional<ProcessHandle> found = ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains(spec)).orElse(false))
                .findFirst();
        found.ifPresent(h -> follow(jobId, h));
        return found;
    }

    /** Follows a trainer this instance did not start (it outlived a restart): its exit code cannot be read, only that it ended. */
    private synchronized void follow(String jobId, ProcessHandle trainer) {
        ProcessHandle known = followed.get(jobId);
        if (known != null && known.isAlive()) {
            return;
        }
        followed.put(jobId, trainer);
        LOG.infof("Following the trainer of %s again (pid %d)", jobId, trainer.pid());
        trainer.onExit().thenAcceptAsync(p -> ended(jobId, p, lastExit(jobId).orElseGet(() -> new TrainerExit(jobId,
                Outcome.LOST, null, "the trainer ended while the service could not see its exit code"))),
                Infrastructure.getDefaultWorkerPool());
    }

    /**
     * How the job's latest trainer ended, as its own log says (the trainer writes a last
     * {@code completed}, {@code cancelled} or {@code failed} line), for a trainer whose exit code
     * this service could not read: it ended while the service was away, or reconciliation found it
     * gone before its exit was reported. Empty when the latest launch's log names no end (the
     * trainer was killed, say).
     */
    @Override
    public Optional<TrainerExit> lastExit(String jobId) {
        List<String> lines = tail(jobId);
        for (int i = lines.size() - 1; i >= 0; i--) {
            JsonNode n = milestone(lines.get(i));
            String event = n == null ? null : n.path("event").asText();
            if ("completed".equals(event)) {
                return Optional.of(new TrainerExit(jobId, Outcome.SUCCEEDED, null, null));
            }
            if ("cancelled".equals(event)) {
                return Optional.of(new TrainerExit(jobId, Outcome.STOPPED, null, "the trainer stopped after a checkpoint"));
            }
            if ("failed".equals(event)) {
                return Optional.of(new TrainerExit(jobId, Outcome.FAILED, null, n.path("reason").asText("the trainer failed")));
            }
        }
        return Optional.empty();
    }

    /** A milestone line the trainer wrote ({@code {"event": ...}}), or null. */
    private static JsonNode milestone(String line) {
        if (!line.startsWith("{") || !line.contains("\"event\"")) {
            return null;
        }
        try {
            JsonNode n = JSON.readTree(line);
            return n.isObject() ? n : null;
        } catch (IOException e) {
            return null; // a line that only looks like JSON
        }
    }

    private void ended(String jobId, ProcessHandle process, TrainerExit exit) {
        followed.remove(jobId, process);
        LOG.infof("Trainer of %s ended: %s%s", jobId, exit.outcome(), exit.reason() == null ? "" : " (" + exit.reason() + ")");
        try {
            listener.accept(exit);
        } catch (RuntimeException e) {
            LOG.errorf(e, "Could not record the end of the trainer of %s; the next reconciliation will", jobId);
        }
    }

    /** What an exit code of llm-engine's trainer means. */
    TrainerExit exitOf(String jobId, int code) {
        return switch (code) {
            case 0 -> new TrainerExit(jobId, Outcome.SUCCEEDED, code, null);
            case EXIT_STOPPED -> new TrainerExit(jobId, Outcome.STOPPED, code, "the trainer stopped after a checkpoint");
            case EXIT_FAILED -> new TrainerExit(jobId, Outcome.FAILED, code, failureReason(jobId)
                    .orElse("the trainer failed (exit code 1); see " + jobDir(jobId).resolve(LOG_FILE)));
            case EXIT_USAGE -> new TrainerExit(jobId, Outcome.FAILED, code, "the trainer refused its spec: "
                    + lastLine(jobId).orElse("exit code 2"));
            default -> new TrainerExit(jobId, Outcome.FAILED, code, code > SIGNAL_BASE
                    ? "the trainer process was killed by signal " + (code - SIGNAL_BASE) + signalName(code - SIGNAL_BASE)
                    : "the trainer exited with code " + code + lastLine(jobId).map(l -> ": " + l).orElse(""));
        };
    }

    private static String signalName(int signal) {
        return switch (signal) {
            case 9 -> " (SIGKILL: killed from outside, e.g. kill -9 or the kernel's out-of-memory killer)";
            case 15 -> " (SIGTERM)";
            case 6 -> " (SIGABRT: the JVM aborted)";
            case 11 -> " (SIGSEGV: a crash in native code)";
            default -> "";
        };
    }

    /** The reason in the trainer's last {@code {"event":"failed",...}} line, if it wrote one. */
    Optional<String> failureReason(String jobId) {
        List<String> lines = tail(jobId);
        for (int i = lines.size() - 1; i >= 0; i--) {
            JsonNode n = milestone(lines.get(i));
            if (n != null && "failed".equals(n.path("event").asText()) && n.hasNonNull("reason")) {
                return Optional.of(n.get("reason").asText());
            }
        }
        return Optional.empty();
    }

    private Optional<String> lastLine(String jobId) {
        List<String> lines = tail(jobId);
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (!lines.get(i).isBlank()) {
                return Optional.of(lines.get(i).strip());
            }
        }
        return Optional.empty();
    }

    /** The end of the job's trainer log, from the latest launch's header on (earlier launches said nothing of this one). */
    private List<String> tail(String jobId) {
        List<String> lines = logTail(jobId);
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).startsWith(LAUNCH_HEADER)) {
                return lines.subList(i + 1, lines.size());
            }
        }
        return lines;
    }

    private List<String> logTail(String jobId) {
        Path log = jobDir(jobId).resolve(LOG_FILE);
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
            long length = file.length();
            long from = Math.max(0, length - LOG_TAIL_BYTES);
            byte[] bytes = new byte[(int) (length - from)];
            file.seek(from);
            file.readFully(bytes);
            List<String> lines = new ArrayList<>(List.of(new String(bytes, StandardCharsets.UTF_8).split("\n")));
            if (from > 0 && !lines.isEmpty()) {
                lines.remove(0);
            }
            return lines;
        } catch (IOException e) {
            return List.of();
        } catch (UncheckedIOException e) {
            return List.of();
        }
    }
}
