package dev.mlinfra.deploychecks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The repository these checks look at: its root, its modules and its version. */
final class Repo {

    private static final Pattern MODULE = Pattern.compile("<module>\\s*([^<\\s]+)\\s*</module>");

    /** Modules that are deployed alongside the services but not as a Deployment of their own. */
    static final List<String> NOT_DEPLOYED_ON_KUBERNETES = List.of(
            // KServe serves the models in a cluster; model-server is the embedded serving backend
            "model-server");

    private Repo() {
    }

    static Path root() {
        String root = System.getProperty("mlinfra.root");
        Path path = root != null ? Path.of(root) : Path.of("..");
        return path.toAbsolutePath().normalize();
    }

    /** The project version, as the images are tagged: the pom's version without -SNAPSHOT. */
    static String imageVersion() {
        String version = System.getProperty("mlinfra.version");
        if (version == null) {
            Matcher m = Pattern.compile("<artifactId>mlinfra-parent</artifactId>\\s*<version>([^<]+)</version>")
                    .matcher(read(root().resolve("pom.xml")));
            if (!m.find()) {
                throw new IllegalStateException("no version in the root pom.xml");
            }
            version = m.group(1);
        }
        return version.replace("-SNAPSHOT", "");
    }

    /** The modules the root pom lists, in its order. */
    static List<String> modules() {
        List<String> modules = new ArrayList<>();
        Matcher m = MODULE.matcher(read(root().resolve("pom.xml")));
        while (m.find()) {
            modules.add(m.group(1));
        }
        return modules;
    }

    /** Applications: modules built by the Quarkus Maven plugin that carry an application.properties. */
    static List<String> applicationModules() {
        return modules().stream().filter(Repo::isApplication).toList();
    }

    static boolean isApplication(String module) {
        Path dir = root().resolve(module);
        return Files.isRegularFile(dir.resolve("src/main/resources/application.properties"))
                && read(dir.resolve("pom.xml")).contains("<artifactId>quarkus-maven-plugin</artifactId>");
    }

    /** Applications that must run as a Deployment in k8s/ and as a service in docker-compose.yml. */
    static List<String> deployedServices() {
        return applicationModules().stream().filter(m -> !NOT_DEPLOYED_ON_KUBERNETES.contains(m)).toList();
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
