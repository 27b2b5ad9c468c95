package dev.mlinfra.engine.model;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlinfra.engine.artifact.ArtifactStore;
import dev.mlinfra.engine.artifact.Checksums;
import dev.mlinfra.engine.data.PromptTemplateFile;
import dev.mlinfra.engine.safetensors.Safetensors;
import dev.mlinfra.engine.safetensors.Tensor;
import dev.mlinfra.engine.tokenizer.ByteTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Base models and trained artifacts on disk or in object storage, in Hugging Face layout:
 * {@code config.json}, {@code tokenizer.json}, {@code model.safetensors}; LoRA adapters as
 * PEFT's {@code adapter_config.json} + {@code adapter_model.safetensors}. Trained artifacts also
 * record the prompt template they were trained with ({@value PromptTemplateFile#FILE}).
 */
public final class ModelStore {

    public static final String CONFIG = "config.json";
    public static final String TOKENIZER = "tokenizer.json";
    public static final String WEIGHTS = "model.safetensors";
    public static final String ADAPTER_CONFIG = "adapter_config.json";
    public static final String ADAPTER_WEIGHTS = "adapter_model.safetensors";
    /**
     * Key of the label set (the issue types a model was trained on, sorted) in adapter_config.json
     * (PEFT ignores keys it does not know) and in a fully fine-tuned model's config.json.
     */
    public static final String LABELS = "mlinfra_labels";
    /**
     * Key of the base an adapter was fine-tuned from ({@link ModelConfig#baseId()}) in
     * adapter_config.json. An adapter without it was trained before bases had names, on the seeded
     * initialisation {@value #LEGACY_BASE}.
     */
    public static final String BASE = "mlinfra_base";
    static final String LEGACY_BASE = ModelConfig.SEEDED_BASE_PREFIX + "3";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ModelStore() {
    }

    /** A model with its tokenizer. */
    public record Loaded(ModelConfig config, ByteTokenizer tokenizer, LlamaModel model) implements AutoCloseable {
        @Override
        public void close() {
            model.close();
        }
    }

    /** The HF-style name of a base model type, used in adapter configs. */
    public static String baseModelName(ModelConfig config) {
        return "mlinfra/llama4-" + config.mlinfraVariant() + "-mini";
    }

    /** Default directory of base models: {@code <data dir>/models}. */
    public static Path defaultBaseDir() {
        return dev.mlinfra.engine.EngineRuntime.dataDir().resolve("models");
    }

    /**
     * The base model of a type from {@code <baseDir>/<type>/}. The first use copies the bundled
     * pretrained weights there (see {@link #ensureBase}); every later use, and every fine-tuning job,
     * starts from that file. A folder holding the seeded initialisation of the same architecture
     * ({@link #writeSeededBase}, e.g. to compare a fine-tune with one from random weights) is used as it is.
     */
    public static Loaded loadBase(String modelType, Path baseDir, NDManager manager) throws IOException {
        Path dir = baseDir.resolve(modelType);
        if (!holds(dir, ModelConfig.builtin(modelType).seeded())) {
            ensureBase(modelType, dir);
        }
        return loadDirectory(dir, manager);
    }

    /**
     * Writes the bundled base of a type into {@code dir} unless it is there already: the pretrained
     * weights shipped with the engine ({@value #WEIGHTS} beside the type's bundled config.json, checked
     * against the config's {@code mlinfra_base_sha256}), or the seeded initialisation for a bundled
     * config that names no pretrained base. A folder written for another config (an older base) is rewritten.
     */
    public static synchronized void ensureBase(String modelType, Path dir) throws IOException {
        ModelConfig config = ModelConfig.builtin(modelType);
        if (holds(dir, config)) {
            return;
        }
        if (config.isSeededBase()) {
            writeSeededBase(modelType, dir);
            return;
        }
        Files.createDirectories(dir);
        String resource = "/models/" + modelType + "/" + WEIGHTS;
        Path part = dir.resolve(WEIGHTS + ".part");
        try (InputStream in = ModelStore.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("the pretrained " + modelType + " base (" + config.baseId() + ") is missing from the"
                        + " engine's jar (" + resource + "); rebuild llm-engine from a complete checkout");
            }
            Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
        }
        String actual = Checksums.sha256(part);
        if (!actual.equals(config.mlinfraBaseSha256())) {
            Files.deleteIfExists(part);
            throw new IOException("the bundled " + modelType + " base weights have SHA-256 " + actual + ", but its config.json"
                    + " says " + config.mlinfraBaseSha256() + "; the engine's jar is damaged or was built from mixed files");
        }
        Files.move(part, dir.resolve(WEIGHTS), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        new ByteTokenizer().write(dir.resolve(TOKENIZER));
        config.write(dir.resolve(CONFIG));
    }

    /** Writes the seeded initialisation (random weights) of a type's architecture into {@code dir}. */
    public static synchronized void writeSeededBase(String modelType, Path dir) throws IOException {
        ModelConfig config = ModelConfig.builtin(modelType).seeded();
        if (holds(dir, config)) {
            return;
        }
        Files.createDirectories(dir);
        new ByteTokenizer().write(dir.resolve(TOKENIZER));
        Safetensors.write(dir.resolve(WEIGHTS), LlamaModel.initialWeights(config),
                Map.of("format", "pt", "mlinfra_init_seed", Long.toString(config.mlinfraInitSeed())));
        config.write(dir.resolve(CONFIG));
    }

    private static boolean holds(Path dir, ModelConfig config) throws IOException {
        return Files.isRegularFile(dir.resolve(WEIGHTS)) && Files.isRegularFile(dir.resolve(CONFIG))
                && ModelConfig.read(dir.resolve(CONFIG)).equals(config);
    }

    /** Loads config.json, tokenizer.json and model.safetensors from a local directory. */
    public static Loaded loadDirectory(Path dir, NDManager manager) throws IOException {
        ModelConfig config = ModelConfig.read(dir.resolve(CONFIG));
        ByteTokenizer tokenizer = Files.isRegularFile(dir.resolve(TOKENIZER))
                ? ByteTokenizer.fromHuggingFaceJson(Files.readAllBytes(dir.resolve(TOKENIZER)))
                : new ByteTokenizer();
        LlamaModel model = LlamaModel.fromTensors(config, Safetensors.read(dir.resolve(WEIGHTS)).tensors(), manager,
                DataType.FLOAT32);
        return new Loaded(config, tokenizer, model);
    }

    /** Loads a full model (config.json, tokenizer.json, model.safetensors) from any artifact store. */
    public static Loaded loadModel(ArtifactStore store, String folder, NDManager manager) throws IOException {
        byte[] config = require(store, folder + CONFIG);
        byte[] tokenizer = store.get(folder + TOKENIZER);
        byte[] weights = require(store, folder + WEIGHTS);
        ModelConfig c = ModelConfig.parse(config);
        ByteTokenizer t = tokenizer == null ? new ByteTokenizer() : ByteTokenizer.fromHuggingFaceJson(tokenizer);
        return new Loaded(c, t, LlamaModel.fromTensors(c, Safetensors.read(weights).tensors(), manager, DataType.FLOAT32));
    }

    /** PEFT adapter_config.json for an adapter of a base model. */
    public static byte[] adapterConfigJson(ModelConfig base, LoraConfig lora, List<String> modules) {
        return adapterConfigJson(base, lora, modules, null);
    }

    /** PEFT adapter_config.json for an adapter of a base model, with the label set it was trained on (null: none). */
    public static byte[] adapterConfigJson(ModelConfig base, LoraConfig lora, List<String> modules, List<String> labels) {
        ObjectNode n = JSON.createObjectNode();
        n.put("peft_type", "LORA");
        n.put("task_type", "CAUSAL_LM");
        n.put("base_model_name_or_path", baseModelName(base));
        n.put("r", lora.r());
        n.put("lora_alpha", lora.alpha());
        n.put("lora_dropout", lora.dropout());
        var targets = n.putArray("target_modules");
        lora.targetModules().forEach(targets::add);
        n.put("bias", "none");
        n.put("fan_in_fan_out", false);
        n.put("inference_mode", true);
        n.put("init_lora_weights", true);
        if (lora.modulesToSave().isEmpty()) {
            n.putNull("modules_to_save");
        } else {
            var save = n.putArray("modules_to_save");
            lora.modulesToSave().forEach(save::add);
        }
        n.putNull("layers_to_transform");
        n.putNull("layers_pattern");
        n.putObject("rank_pattern");
        n.putObject("alpha_pattern");
        n.put("use_rslora", false);
        n.put("use_dora", false);
        // PEFT's revision of the base model: which weights the adapter was trained against
        n.put("revision", base.baseId());
        n.put(BASE, base.baseId());
        n.put("mlinfra_adapted_modules", modules.size());
        putLabels(n, labels);
        try {
            return JSON.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes a LoRA adapter (PEFT layout, with the label set in adapter_config.json) plus the base's
     * config.json and tokenizer.json, and the prompt template, into a folder.
     */
    public static void writeAdapter(ArtifactStore store, String folder, ModelConfig base, ByteTokenizer tokenizer,
            LoraAdapter adapter, List<String> labels) throws IOException {
        store.put(folder + ADAPTER_WEIGHTS, Safetensors.write(adapter.toTensors(), Map.of("format", "pt")));
        store.put(folder + CONFIG, base.toJson());
        store.put(folder + TOKENIZER, tokenizer.toHuggingFaceJson());
        store.put(folder + ADAPTER_CONFIG, adapterConfigJson(base, adapter.config(), adapter.moduleNames(), labels));
        PromptTemplateFile.write(store, folder);
    }

    /** Writes full weights (HF layout) into a folder, with the label set in config.json, and the prompt template. */
    public static void writeModel(ArtifactStore store, String folder, LlamaModel model, ByteTokenizer tokenizer,
            List<String> labels) throws IOException {
        store.put(folder + WEIGHTS, Safetensors.write(model.toTensors(), Map.of("format", "pt")));
        store.put(folder + TOKENIZER, tokenizer.toHuggingFaceJson());
        store.put(folder + CONFIG, configJson(model.config(), labels));
        PromptTemplateFile.write(store, folder);
    }

    /** A model's config.json with the label set it was trained on (null: none). */
    public static byte[] configJson(ModelConfig config, List<String> labels) {
        if (labels == null) {
            return config.toJson();
        }
        try {
            ObjectNode n = (ObjectNode) JSON.readTree(config.toJson());
            putLabels(n, labels);
            return JSON.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void putLabels(ObjectNode n, List<String> labels) {
        if (labels != null) {
            var array = n.putArray(LABELS);
            labels.forEach(array::add);
        }
    }

    /**
     * The label set recorded with a model or adapter in a folder: from adapter_config.json, else
     * config.json; null when neither records one.
     */
    public static List<String> readLabels(ArtifactStore store, String folder) throws IOException {
        for (String file : List.of(ADAPTER_CONFIG, CONFIG)) {
            byte[] json = store.get(folder + file);
            if (json == null) {
                continue;
            }
            JsonNode labels = JSON.readTree(json).get(LABELS);
            if (labels != null && labels.isArray()) {
                List<String> out = new ArrayList<>();
                labels.forEach(l -> out.add(l.asText()));
                return List.copyOf(out);
            }
        }
        return null;
    }

    /** Reads a PEFT LoRA adapter for a base model from a folder of any artifact store. */
    public static LoraAdapter loadAdapter(ArtifactStore store, String folder, LlamaModel base) throws IOException {
        JsonNode config = JSON.readTree(require(store, folder + ADAPTER_CONFIG));
        if (!"LORA".equalsIgnoreCase(config.path("peft_type").asText("LORA"))) {
            throw new IllegalArgumentException("adapter is not a LoRA adapter (peft_type " + config.path("peft_type").asText() + ")");
        }
        String trainedOn = config.path(BASE).asText(LEGACY_BASE);
        String serving = base.config().baseId();
        if (!trainedOn.equals(serving)) {
            throw new IllegalArgumentException("the adapter at " + store.uri(folder) + " was fine-tuned from the "
                    + base.config().mlinfraVariant() + " base '" + trainedOn + "', but this engine's " + base.config().mlinfraVariant()
                    + " base is '" + serving + "': an adapter only fits the weights it was trained on; fine-tune it again"
                    + " from the current base");
        }
        List<String> targets = new ArrayList<>();
        config.path("target_modules").forEach(t -> targets.add(t.asText()));
        List<String> toSave = new ArrayList<>();
        config.path("modules_to_save").forEach(t -> toSave.add(t.asText()));
        LoraConfig lora = new LoraConfig(config.path("r").asInt(), config.path("lora_alpha").asDouble(),
                config.path("lora_dropout").asDouble(0), targets, toSave);
        Map<String, Tensor> tensors = Safetensors.read(require(store, folder + ADAPTER_WEIGHTS)).tensors();
        return LoraAdapter.fromTensors(base, lora, tensors);
    }

    private static byte[] require(ArtifactStore store, String path) throws IOException {
        byte[] data = store.get(path);
        if (data == null) {
            throw new java.io.FileNotFoundException(store.uri(path) + " does not exist");
        }
        return data;
    }
}
