package dev.mlinfra.deploychecks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Every image of the platform is built from a Dockerfile that follows the rules of our images. */
class DockerfileTest {

    /** The Dockerfile of a module: Dockerfile.jvm for Quarkus applications, Dockerfile for the trainer. */
    static Path dockerfileOf(String module) {
        String name = Repo.isApplication(module) ? "Dockerfile.jvm" : "Dockerfile";
        return Repo.root().resolve(module).resolve("src/main/docker").resolve(name);
    }

    /** Modules that ship an image: every application, and llm-engine (the trainer). */
    static List<String> imageModules() {
        List<String> modules = new ArrayList<>(Repo.applicationModules());
        modules.add("llm-engine");
        return modules;
    }

    @Test
    void theApplicationsAreFoundFromTheRootPom() {
        List<String> apps = Repo.applicationModules();
        // a sanity check of the scan itself: if it found nothing, the other checks would pass vacuously
        assertTrue(apps.containsAll(List.of("gateway", "dataset-service", "training-service", "registry-service",
                "inference-service", "infra-service", "model-server")), "applications found: " + apps);
    }

    @Test
    void everyApplicationAndTheTrainerHaveADockerfile() {
        List<String> missing = imageModules().stream().filter(m -> !Files.isRegularFile(dockerfileOf(m)))
                .map(m -> m + " (expected " + Repo.root().relativize(dockerfileOf(m)) + ")").toList();
        assertEquals(List.of(), missing, "modules without a Dockerfile");
    }

    @TestFactory
    Stream<DynamicTest> everyDockerfileIsPinnedNonRootSecretFreeAndHealthChecked() {
        return imageModules().stream().filter(m -> Files.isRegularFile(dockerfileOf(m)))
                .map(m -> DynamicTest.dynamicTest(m, () -> {
                    List<String> problems = Dockerfiles.problems(dockerfileOf(m), Repo.root().resolve(m),
                            Repo.isApplication(m));
                    assertEquals(List.of(), problems, Repo.root().relativize(dockerfileOf(m)).toString());
                }));
    }
}
