package dev.mlinfra.training.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.training.config.TrainingConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local backend without starting a trainer: its status (whether it could start one, and the
 * trainer's version), and how a trainer ended as its log says.
 */
class LocalTrainingBackendTest {

    private static final Path JAVA_HOME = Path.of(System.getProperty("java.home"));

    @TempDir
    Path dir;

    private record Local(Optional<String> engineJar, String workDir, String engineDataDir, String jvmOptions)
            implements TrainingConfig.Local {
    }

    private Local config(Path jar) {
        return new Local(Optional.ofNullable(jar).map(Path::toString), dir.resolve("work").toString(),
                dir.resolve("engine-data").toString(), "");
    }

    private Path jar(String version) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (version != null) {
            manifest.getMainAttributes().put(Attributes.Name.IMPLEMENTATION_VERSION, version);
        }
        Path jar = dir.resolve("llm-engine.jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream ignored = new JarOutputStream(out, manifest)) {
            // a manifest is all the status reads
        }
        return jar;
    }

    /** A backend whose job {@code train-1} has this trainer log. */
    private LocalTrainingBackend withLog(String... lines) throws IOException {
        Local local = config(null);
        TrainingConfig config = (TrainingConfig) Proxy.newProxyInstance(TrainingConfig.class.getClassLoader(),
                new Class<?>[] {TrainingConfig.class}, (proxy, method, args) -> "local".equals(method.getName()) ? local : null);
        LocalTrainingBackend backend = new LocalTrainingBackend(config);
        Path log = backend.jobDir("train-1").resolve(LocalTrainingBackend.LOG_FILE);
        Files.createDirectories(log.getParent());
        Files.writeString(log, String.join("\n", lines) + "\n");
        return backend;
    }

    private static final String LAUNCH = LocalTrainingBackend.LAUNCH_HEADER + "2026-12-06T10:00:00Z launching the trainer of train-1";

    @Test
    void aTrainerWhoseExitCodeWasNotSeenEndsAsItsOwnLogSays() throws IOException {
        TrainerExit failed = withLog(LAUNCH, "{\"event\":\"started\"}", "{\"event\":\"step\",\"step\":1}",
                "{\"event\":\"failed\",\"reason\":\"the dataset has no usable records\"}").lastExit("train-1").orElseThrow();
        assertEquals(TrainerExit.Outcome.FAILED, failed.outcome());
        assertEquals("the dataset has no usable records", failed.reason());
        assertEquals(TrainerExit.Outcome.STOPPED, withLog(LAUNCH, "{\"event\":\"checkpoint\",\"step\":4}",
                "{\"event\":\"cancelled\",\"step\":4}").lastExit("train-1").orElseThrow().outcome());
        assertEquals(TrainerExit.Outcome.SUCCEEDED, withLog(LAUNCH, "{\"event\":\"evaluation\"}",
                "{\"event\":\"completed\",\"steps\":3}").lastExit("train-1").orElseThrow().outcome());
        // killed mid-run: its log names no end, so nothing is known of one
        assertTrue(withLog(LAUNCH, "{\"event\":\"step\",\"step\":1}").lastExit("train-1").isEmpty());
    }

    @Test
    void onlyTheLatestLaunchOfAJobSpeaksForIt() throws IOException {
        LocalTrainingBackend backend = withLog(LAUNCH, "{\"event\":\"failed\",\"reason\":\"an earlier failure\"}",
                LAUNCH, "{\"event\":\"step\",\"step\":1}");
        assertTrue(backend.lastExit("train-1").isEmpty(), "the earlier launch's end is not this one's");
        TrainerExit crashed = backend.exitOf("train-1", 1);
        assertEquals(TrainerExit.Outcome.FAILED, crashed.outcome());
        assertFalse(crashed.reason().contains("an earlier failure"), crashed.reason());
    }

    @Test
    void aMissingJarCannotStartATrainerAndTheReasonNamesIt() {
        Path missing = dir.resolve("nowhere/llm-engine.jar");
        BackendStatus status = LocalTrainingBackend.status(config(missing), JAVA_HOME);
        assertEquals("local", status.backend());
        assertFalse(status.canStart());
        assertEquals(missing.toString(), status.engineJar());
        assertNull(status.version());
        assertTrue(status.reason().contains(missing.toString()), status.reason());
        assertTrue(status.reason().contains("./mvnw -pl llm-engine package"), status.reason());
    }

    @Test
    void noConfiguredJarNamesTheKeyToSet() {
        BackendStatus status = LocalTrainingBackend.status(config(null), JAVA_HOME);
        assertFalse(status.canStart());
        assertNull(status.engineJar());
        assertTrue(status.reason().contains("mlinfra.training.local.engine-jar"), status.reason());
    }

    @Test
    void aBuiltJarCanStartAndGivesItsImplementationVersion() throws IOException {
        Path jar = jar("7.1.2");
        BackendStatus status = LocalTrainingBackend.status(config(jar), JAVA_HOME);
        assertTrue(status.canStart(), status.reason());
        assertEquals("7.1.2", status.version());
        assertEquals(jar.toString(), status.engineJar());
        assertNull(status.reason());
        assertTrue(Files.isDirectory(dir.resolve("work")), "the work directory is made ready for the jobs' folders");
    }

    @Test
    void aJarWithoutAVersionCanStillStart() throws IOException {
        BackendStatus status = LocalTrainingBackend.status(config(jar(null)), JAVA_HOME);
        assertTrue(status.canStart(), status.reason());
        assertNull(status.version());
    }

    @Test
    void aFileThatIsNotAJarCannotStartATrainer() throws IOException {
        Path jar = Files.writeString(dir.resolve("llm-engine.jar"), "not a zip");
        BackendStatus status = LocalTrainingBackend.status(config(jar), JAVA_HOME);
        assertFalse(status.canStart());
        assertTrue(status.reason().contains(jar.toString()), status.reason());
    }

    @Test
    void aJdkWithoutAJavaLauncherCannotStartATrainer() throws IOException {
        Path jre = Files.createDirectories(dir.resolve("jdk-without-launcher"));
        BackendStatus status = LocalTrainingBackend.status(config(jar("7.1.2")), jre);
        assertFalse(status.canStart());
        assertEquals("7.1.2", status.version());
        assertTrue(status.reason().contains(jre.resolve("bin/java").toString()), status.reason());
    }

    @Test
    void aWorkDirectoryThatCannotBeCreatedIsReported() throws IOException {
        Path jar = jar("7.1.2");
        Path blocked = Files.writeString(dir.resolve("a-file"), "in the way").resolve("work");
        Local config = new Local(Optional.of(jar.toString()), blocked.toString(), dir.resolve("engine-data").toString(), "");
        BackendStatus status = LocalTrainingBackend.status(config, JAVA_HOME);
        assertFalse(status.canStart());
        assertTrue(status.reason().contains(blocked.toString()), status.reason());
        assertTrue(status.reason().contains("mlinfra.training.local.work-dir"), status.reason());
    }
}
