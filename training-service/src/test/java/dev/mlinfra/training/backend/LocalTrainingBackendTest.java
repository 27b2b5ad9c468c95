package dev.mlinfra.training.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.training.config.TrainingConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local backend's status: whether it could start a trainer, and the trainer's version, without starting one. */
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
