package dev.mlinfra.gateway.http;

import io.restassured.path.json.JsonPath;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code src/test/node/openai-sdk-check.mjs} with the official OpenAI SDK for Node (npm
 * {@code openai}, major version {@value #SDK}), installed under {@code target/openai-sdk} on first
 * use; Node.js and npm come from apt when the machine has none.
 */
final class OpenAiSdk {

    static final String SDK = "6";
    private static final Path DIR = Path.of(System.getProperty("mlinfra.root"), "gateway/target/openai-sdk");

    private OpenAiSdk() {
    }

    static JsonPath run(String mlinfraUrl, String apiKey, String modelId, String prompt) throws Exception {
        install();
        Path script = DIR.resolve("openai-sdk-check.mjs");
        Files.copy(Path.of(System.getProperty("mlinfra.root"), "gateway/src/test/node/openai-sdk-check.mjs"), script,
                StandardCopyOption.REPLACE_EXISTING);
        ProcessBuilder pb = new ProcessBuilder("node", script.toString()).directory(DIR.toFile());
        pb.environment().put("MLINFRA_URL", mlinfraUrl);
        pb.environment().put("MLINFRA_API_KEY", apiKey);
        pb.environment().put("MODEL_ID", modelId);
        pb.environment().put("PROMPT", prompt);
        pb.redirectErrorStream(true);
        Process p = pb.start();
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the OpenAI SDK script did not finish within 180 s");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new AssertionError("the OpenAI SDK script failed (exit " + p.exitValue() + "):\n" + out);
        }
        List<String> lines = out.lines().filter(l -> l.startsWith("{")).toList();
        if (lines.isEmpty()) {
            throw new AssertionError("the OpenAI SDK script printed no result:\n" + out);
        }
        return JsonPath.from(lines.get(lines.size() - 1));
    }

    private static synchronized void install() throws IOException, InterruptedException {
        if (Files.isDirectory(DIR.resolve("node_modules/openai"))) {
            return;
        }
        if (!onPath("node") || !onPath("npm")) {
            sh("apt-get install -y -qq nodejs npm || (apt-get update -qq && apt-get install -y -qq nodejs npm)");
        }
        Files.createDirectories(DIR);
        sh("npm install --silent --no-audit --no-fund --prefix '" + DIR + "' openai@" + SDK);
    }

    private static boolean onPath(String command) throws IOException, InterruptedException {
        return new ProcessBuilder("sh", "-c", "command -v " + command).start().waitFor() == 0;
    }

    private static void sh(String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-c", command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new AssertionError("'" + command + "' failed:\n" + out);
        }
    }
}
