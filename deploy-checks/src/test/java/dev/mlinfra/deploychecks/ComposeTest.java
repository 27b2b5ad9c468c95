package dev.mlinfra.deploychecks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** docker-compose.yml is valid for docker-compose and runs every application with health checks. */
class ComposeTest {

    private static JsonNode config;

    /** `docker-compose config` with the documented example settings: the file as Compose resolves it. */
    @BeforeAll
    static void resolve() {
        assertTrue(Files.isRegularFile(Repo.root().resolve("docker-compose.yml")), "docker-compose.yml is missing");
        assertTrue(Files.isRegularFile(Repo.root().resolve(".env.example")), ".env.example is missing");
        StringBuilder why = new StringBuilder();
        var compose = Tools.findOrInstall("docker-compose", "docker-compose", why);
        Assumptions.assumeTrue(compose.isPresent(),
                () -> "SKIPPED, docker-compose.yml is not checked by docker-compose: " + why);
        Tools.Result result = Tools.run(Repo.root(), Map.of("MLINFRA_ENV_FILE", ".env.example"), 120,
                compose.get().toString(), "--env-file", ".env.example", "config");
        assertTrue(result.ok(), () -> "docker-compose config rejects docker-compose.yml: " + result.describe());
        config = Manifests.readAll(result.stdout()).get(0);
    }

    @Test
    void everyApplicationRunsFromItsImage() {
        List<String> images = new ArrayList<>();
        config.path("services").forEach(s -> images.add(s.path("image").asText()));
        List<String> missing = Repo.applicationModules().stream()
                .filter(m -> !images.contains("mlinfra/" + m + ":" + Repo.imageVersion())).toList();
        assertEquals(List.of(), missing, "applications without a service of image mlinfra/<module>:"
                + Repo.imageVersion() + " in docker-compose.yml");
    }

    @Test
    void everyLongRunningServiceHasAHealthCheckAndWaitsForHealthyDependencies() {
        List<String> problems = new ArrayList<>();
        config.path("services").fields().forEachRemaining(e -> {
            String name = e.getKey();
            JsonNode service = e.getValue();
            boolean oneShot = !service.has("restart");
            if (!oneShot && (!service.has("healthcheck") || service.path("healthcheck").path("disable").asBoolean(false))) {
                problems.add(name + ": no healthcheck");
            }
            JsonNode dependsOn = service.path("depends_on");
            dependsOn.fields().forEachRemaining(d -> {
                String condition = d.getValue().path("condition").asText("");
                JsonNode dependency = config.path("services").path(d.getKey());
                String expected = dependency.has("restart") ? "service_healthy" : "service_completed_successfully";
                if (!condition.equals(expected)) {
                    problems.add(name + " depends on " + d.getKey() + " with condition '" + condition + "', not " + expected);
                }
            });
            if (service.path("image").asText().startsWith("mlinfra/") && !service.path("image").asText().contains("model-server")
                    && !(dependsOn.has("postgres") && dependsOn.has("kafka") && dependsOn.has("minio"))) {
                problems.add(name + ": does not wait for postgres, kafka and minio");
            }
            String image = service.path("image").asText();
            if (!image.isEmpty()) {
                String why = Dockerfiles.unpinned(image);
                if (why != null) {
                    problems.add(name + ": image " + image + ": " + why);
                }
            }
        });
        assertEquals(List.of(), problems, "docker-compose.yml");
    }

    @Test
    void noSecretIsCommitted() {
        // the settings file is .env (ignored by git); only its documented example is in the repository
        String gitignore = Repo.read(Repo.root().resolve(".gitignore"));
        assertTrue(gitignore.lines().anyMatch(l -> l.strip().equals(".env")), ".env must be in .gitignore");
        String compose = Repo.read(Repo.root().resolve("docker-compose.yml"));
        List<String> literal = compose.lines()
                .filter(l -> l.matches("\\s*[A-Z_]*(PASSWORD|SECRET|SECRET_KEY|ACCESS_KEY|API_KEY|TOKEN)[A-Z_]*:\\s*\\S.*"))
                .filter(l -> !l.contains("${")).toList();
        assertEquals(List.of(), literal, "secret values written into docker-compose.yml instead of taken from .env");
        assertTrue(Files.exists(Path.of(Repo.root().toString(), ".env.example")));
    }
}
