package dev.mlinfra.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlinfra.engine.TestEngine;
import dev.mlinfra.engine.artifact.Checksums;
import dev.mlinfra.engine.artifact.LocalArtifactStore;
import dev.mlinfra.engine.tokenizer.ByteTokenizer;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bundled pretrained bases: their checksums and recipe, the size budget, that every job
 * starts from them, and that an adapter only loads onto the base it was trained on.
 */
class BaseModelTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SIZE_BUDGET = 64L * 1024 * 1024;

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"scout", "maverick"})
    void theBundledBaseMatchesItsChecksumAndRecipe(String type) throws Exception {
        ModelConfig config = ModelConfig.builtin(type);
        assertFalse(config.isSeededBase(), type + " ships a pretrained base");
        byte[] weights = resource("/models/" + type + "/model.safetensors");
        assertEquals(config.mlinfraBaseSha256(), sha256(weights), "config.json's mlinfra_base_sha256 of " + type);
        JsonNode recipe = JSON.readTree(resource("/models/" + type + "/pretraining.json"));
        assertEquals(config.mlinfraBaseSha256(), recipe.path("weights_sha256").asText());
        assertEquals(config.baseId(), recipe.path("base").asText());
        assertEquals(type, recipe.path("model_type").asText());
        assertEquals(sha256(Files.readAllBytes(Paths.get("pretraining/corpus-manifest.json"))),
                recipe.path("corpus_manifest_sha256").asText(), "the base was pretrained on the corpus of the manifest in the repository");
        assertTrue(recipe.path("command").asText().startsWith("llm-engine pretrain --model " + type), recipe.toString());
        assertTrue(recipe.path("tokens_seen").asLong() > 0 && recipe.path("heldout_perplexity").asDouble() > 1);
    }

    @Test
    void theBundledBasesFitTheSizeBudget() throws Exception {
        long total = resource("/models/scout/model.safetensors").length + resource("/models/maverick/model.safetensors").length;
        assertTrue(total <= SIZE_BUDGET, total + " bytes");
    }

    @Test
    void jobsStartFromTheBundledBaseAndASeededFolderStaysSeeded() throws Exception {
        TestEngine.engine();
        try (NDManager m = NDManager.newBaseManager();
             ModelStore.Loaded pretrained = ModelStore.loadBase("scout", tmp.resolve("a"), m)) {
            assertEquals(ModelConfig.builtin("scout"), pretrained.config());
            assertEquals(ModelConfig.builtin("scout").mlinfraBaseSha256(), Checksums.sha256(tmp.resolve("a/scout/model.safetensors")));
        }
        ModelStore.writeSeededBase("scout", tmp.resolve("b").resolve("scout"));
        try (NDManager m = NDManager.newBaseManager(); ModelStore.Loaded seeded = ModelStore.loadBase("scout", tmp.resolve("b"), m)) {
            assertTrue(seeded.config().isSeededBase());
            assertEquals("seeded-init-v3", seeded.config().baseId());
        }
        // A folder of an older base (a config that differs) is replaced by the bundled one.
        Path old = tmp.resolve("c").resolve("scout");
        ModelStore.writeSeededBase("scout", old);
        ObjectNode config = (ObjectNode) JSON.readTree(old.resolve(ModelStore.CONFIG).toFile());
        config.put("mlinfra_base", "pretrained-v0");
        Files.write(old.resolve(ModelStore.CONFIG), JSON.writeValueAsBytes(config));
        try (NDManager m = NDManager.newBaseManager(); ModelStore.Loaded replaced = ModelStore.loadBase("scout", tmp.resolve("c"), m)) {
            assertEquals(ModelConfig.builtin("scout"), replaced.config());
        }
    }

    @Test
    void anAdapterIsRefusedByAnotherBase() throws Exception {
        TestEngine.engine();
        LocalArtifactStore store = new LocalArtifactStore(tmp.resolve("adapters"));
        ModelStore.writeSeededBase("scout", tmp.resolve("seeded").resolve("scout"));
        try (NDManager m = NDManager.newBaseManager();
             ModelStore.Loaded seeded = ModelStore.loadBase("scout", tmp.resolve("seeded"), m);
             ModelStore.Loaded pretrained = ModelStore.loadBase("scout", tmp.resolve("pretrained"), m);
             LoraAdapter adapter = LoraAdapter.create(seeded.model(), new LoraConfig(4, 8, 0, LoraConfig.DEFAULT_TARGETS), 1)) {
            ModelStore.writeAdapter(store, "old/", seeded.config(), new ByteTokenizer(), adapter, List.of("bug"));
            JsonNode adapterConfig = JSON.readTree(store.get("old/" + ModelStore.ADAPTER_CONFIG));
            assertEquals(seeded.config().baseId(), adapterConfig.path(ModelStore.BASE).asText());
            assertEquals(seeded.config().baseId(), adapterConfig.path("revision").asText());

            ModelStore.loadAdapter(store, "old/", seeded.model()).close();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ModelStore.loadAdapter(store, "old/", pretrained.model()));
            assertTrue(e.getMessage().contains("fine-tuned from the scout base '" + seeded.config().baseId() + "'")
                    && e.getMessage().contains("'" + pretrained.config().baseId() + "'")
                    && e.getMessage().contains("fine-tune it again"), e.getMessage());

            // an adapter written before bases had names was trained on the seeded initialisation
            ObjectNode legacy = (ObjectNode) adapterConfig;
            legacy.remove(ModelStore.BASE);
            legacy.putNull("revision");
            store.put("old/" + ModelStore.ADAPTER_CONFIG, JSON.writeValueAsBytes(legacy));
            assertThrows(IllegalArgumentException.class, () -> ModelStore.loadAdapter(store, "old/", pretrained.model()));
            ModelStore.loadAdapter(store, "old/", seeded.model()).close();
        }
    }

    private static byte[] resource(String name) throws Exception {
        try (InputStream in = BaseModelTest.class.getResourceAsStream(name)) {
            assertNotNull(in, name + " is bundled");
            return in.readAllBytes();
        }
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
