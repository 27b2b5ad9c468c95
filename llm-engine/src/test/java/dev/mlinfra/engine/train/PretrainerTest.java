package dev.mlinfra.engine.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.engine.TestEngine;
import dev.mlinfra.engine.artifact.Checksums;
import dev.mlinfra.engine.corpus.CorpusBuilder;
import dev.mlinfra.engine.model.ModelConfig;
import dev.mlinfra.engine.model.ModelStore;
import dev.mlinfra.engine.safetensors.DType;
import dev.mlinfra.engine.safetensors.Safetensors;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A short pretraining run: what it writes, and that it learns the corpus. */
class PretrainerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void pretrainingWritesANamedBfloat16BaseThatModelsTheHeldOutText() throws Exception {
        TestEngine.engine();
        Path corpus = tmp.resolve("corpus");
        Files.createDirectories(corpus);
        List<String> lines = new ArrayList<>();
        String[] subjects = {"deployment", "service", "config map", "secret", "ingress", "job"};
        for (int i = 0; i < 120; i++) {
            String s = subjects[i % subjects.length];
            lines.add(JSON.writeValueAsString(Map.of("source", "test", "split", i % 10 == 0 ? "heldout" : "train",
                    "text", "The " + s + " controller reconciles the " + s + " every " + (i % 7 + 1)
                            + " minutes and reports its status in the conditions of the " + s + ".")));
        }
        Files.write(corpus.resolve(CorpusBuilder.CORPUS), lines);
        Files.writeString(corpus.resolve(CorpusBuilder.STATS), "{\"sha256\": \"abc\", \"heldout_bytes\": 1200}");
        Path manifest = Files.writeString(tmp.resolve("manifest.json"), "{}");
        Path out = tmp.resolve("base");
        ByteArrayOutputStream log = new ByteArrayOutputStream();

        Map<String, Object> recipe = new Pretrainer(new Pretrainer.Settings("scout", "pretrained-test", corpus, manifest, out,
                7, 24 * 64 * 4, 64, 4, 0.004, 0.1, 0.1, 0.0, 1.0, 0, 4, "llm-engine pretrain ..."),
                new PrintStream(log, true)).run();

        assertEquals(24, ((Number) recipe.get("steps")).intValue());
        assertEquals(24L * 4 * 64, ((Number) recipe.get("tokens_seen")).longValue());
        double initial = (double) recipe.get("initial_heldout_perplexity");
        double after = (double) recipe.get("heldout_perplexity");
        assertTrue(initial > 100, "random weights are close to uniform over 264 tokens: " + initial);
        assertTrue(after < initial / 4, "the held-out text is far more predictable after pretraining: " + initial + " -> " + after);
        assertEquals(6, log.toString().lines().filter(l -> l.contains("\"event\":\"step\"")).count(), log.toString());

        Map<String, dev.mlinfra.engine.safetensors.Tensor> tensors = Safetensors.read(out.resolve(ModelStore.WEIGHTS)).tensors();
        assertTrue(tensors.values().stream().allMatch(t -> t.dtype() == DType.BF16), "stored as bfloat16");
        ModelConfig config = ModelConfig.read(out.resolve(ModelStore.CONFIG));
        assertEquals("pretrained-test", config.baseId());
        assertEquals(Checksums.sha256(out.resolve(ModelStore.WEIGHTS)), config.mlinfraBaseSha256());
        assertEquals(ModelConfig.builtin("scout").withBase("pretrained-test", config.mlinfraBaseSha256()), config,
                "the bundled architecture, named");
        JsonNode written = JSON.readTree(out.resolve(Pretrainer.RECIPE).toFile());
        assertEquals(config.mlinfraBaseSha256(), written.path("weights_sha256").asText());
        assertEquals(Checksums.sha256(manifest), written.path("corpus_manifest_sha256").asText());
        assertEquals("abc", written.path("corpus_sha256").asText());
        try (NDManager m = NDManager.newBaseManager(); ModelStore.Loaded loaded = ModelStore.loadDirectory(out, m)) {
            assertEquals("pretrained-test", loaded.config().baseId());
        }
    }
}
