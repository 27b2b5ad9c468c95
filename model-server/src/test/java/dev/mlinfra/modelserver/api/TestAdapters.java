package dev.mlinfra.modelserver.api;

import dev.mlinfra.engine.artifact.LocalArtifactStore;
import dev.mlinfra.engine.model.LlamaModel;
import dev.mlinfra.engine.model.LoraConfig;
import dev.mlinfra.engine.model.ModelConfig;
import dev.mlinfra.engine.model.ModelStore;
import dev.mlinfra.engine.safetensors.Safetensors;
import dev.mlinfra.engine.safetensors.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** LoRA adapters for the tests, written to disk in PEFT layout. */
final class TestAdapters {

    private TestAdapters() {
    }

    /** Writes a random LoRA adapter for the scout base; large enough to change greedy output. */
    static Path adapter(String name, long seed) throws Exception {
        ModelConfig config = ModelConfig.builtin("scout");
        LoraConfig lora = new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj", "down_proj"));
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Random random = new Random(seed);
        List<String> modules = new ArrayList<>();
        LlamaModel.weightShapes(config).forEach((weight, shape) -> {
            String module = weight.substring(0, weight.length() - ".weight".length());
            if (!weight.endsWith("_proj.weight") || !lora.targets(module)) {
                return;
            }
            modules.add(module);
            tensors.put("base_model.model." + module + ".lora_A.weight", random(random, new long[] {4, shape[1]}, 0.3));
            tensors.put("base_model.model." + module + ".lora_B.weight", random(random, new long[] {shape[0], 4}, 0.3));
        });
        Path dir = Paths.get("target", "adapters", name).toAbsolutePath();
        Files.createDirectories(dir);
        LocalArtifactStore store = new LocalArtifactStore(dir);
        store.put(ModelStore.ADAPTER_WEIGHTS, Safetensors.write(tensors, Map.of("format", "pt")));
        store.put(ModelStore.ADAPTER_CONFIG, ModelStore.adapterConfigJson(config, lora, modules));
        return dir;
    }

    private static Tensor random(Random random, long[] shape, double std) {
        float[] v = new float[(int) (shape[0] * shape[1])];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextGaussian() * std);
        }
        return Tensor.ofFloats(shape, v);
    }
}
