package dev.mlinfra.deploychecks;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Command-line tools the checks run (kubectl, docker-compose): found on the PATH, else installed
 * once from Debian's packages with apt-get when this machine has it and we are root.
 */
final class Tools {

    /** What a command printed and how it ended. */
    record Result(int exitCode, String stdout, String stderr) {

        boolean ok() {
            return exitCode == 0;
        }

        String describe() {
            return "exit code " + exitCode + "\n--- stderr\n" + stderr + "\n--- stdout (start)\n"
                    + stdout.substring(0, Math.min(stdout.length(), 2000));
        }
    }

    private static boolean aptUpdated;

    private Tools() {
    }

    /** The command on the PATH, installing {@code aptPackage} first when it is missing; why not otherwise. */
    static synchronized Optional<Path> findOrInstall(String command, String aptPackage, StringBuilder why) {
        Optional<Path> found = onPath(command);
        if (found.isPresent()) {
            return found;
        }
        Optional<Path> apt = onPath("apt-get");
        if (apt.isEmpty()) {
            why.append(command).append(" is not on the PATH and apt-get is not available to install ")
                    .append(aptPackage);
            return Optional.empty();
        }
        System.err.printf("[deploy-checks] %s is missing: installing the Debian package %s%n", command, aptPackage);
        Map<String, String> env = Map.of("DEBIAN_FRONTEND", "noninteractive");
        if (!aptUpdated) {
            Result update = run(Path.of("."), env, 600, "apt-get", "update");
            if (!update.ok()) {
                why.append("apt-get update failed: ").append(update.describe());
                return Optional.empty();
            }
            aptUpdated = true;
        }
        Result install = run(Path.of("."), env, 600, "apt-get", "install", "-y", "--no-install-recommends", aptPackage);
        if (!install.ok()) {
            why.append("apt-get install ").append(aptPackage).append(" failed: ").append(install.describe());
            return Optional.empty();
        }
        found = onPath(command);
        if (found.isEmpty()) {
            why.append("apt-get installed ").append(aptPackage).append(" but ").append(command)
                    .append(" is still not on the PATH");
        }
        return found;
    }

    static Optional<Path> onPath(String command) {
        String path = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir, command);
            if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** Runs a command in {@code dir} with extra environment variables, waiting at most {@code timeoutSeconds}. */
    static Result run(Path dir, Map<String, String> env, long timeoutSeconds, String... command) {
        List<String> cmd = new ArrayList<>(List.of(command));
        ProcessBuilder builder = new ProcessBuilder(cmd).directory(dir.toFile());
        builder.environment().putAll(env);
        try {
            Path out = Files.createTempFile("deploy-checks", ".out");
            Path err = Files.createTempFile("deploy-checks", ".err");
            try {
                builder.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
                Process process = builder.start();
                if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    return new Result(-1, Files.readString(out), "timed out after " + timeoutSeconds + " s: " + cmd);
                }
                return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            return new Result(-1, "", "could not run " + cmd + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "", "interrupted: " + cmd);
        }
    }
}
