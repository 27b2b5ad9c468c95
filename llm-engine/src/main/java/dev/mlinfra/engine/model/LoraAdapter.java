package dev.mlinfra.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.mlinfra.engine.safetensors.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A set of LoRA matrices for one base model: for each targeted projection {@code W} (shape
 * {@code [out, in]}) a down-projection {@code A} ({@code [r, in]}) and an up-projection {@code B}
 * ({@code [out, r]}), named as in PEFT ({@code <module>.lora_A.weight}).
 */
public final class LoraAdapter implements AutoCloseable {

    /** Prefix PEFT puts in front of module names in adapter_model.safetensors. */
    public static final String PEFT_PREFIX = "base_model.model.";

    private final LoraConfig config;
    private final NDManager manager;
    private final Map<String, NDArray[]> modules;
    private final Map<String, NDArray> saved;

    private LoraAdapter(LoraConfig config, NDManager manager, Map<String, NDArray[]> modules, Map<String, NDArray> saved) {
        this.config = config;
        this.manager = manager;
        this.modules = modules;
        this.saved = saved;
    }

    /** A fully trained replacement of a base weight (modules_to_save), or null. */
    public NDArray savedWeight(String weightName) {
        return saved.get(weightName);
    }

    /**
     * A fresh adapter as PEFT initialises one: {@code A} Kaiming-uniform (bound {@code 1/sqrt(in)}),
     * {@code B} zero, so the adapted model starts equal to the base.
     */
    public static LoraAdapter create(LlamaModel base, LoraConfig config, long seed) {
        NDManager manager = base.manager().newSubManager();
        Map<String, NDArray[]> modules = new LinkedHashMap<>();
        for (String module : base.projectionModules()) {
            if (!config.targets(module)) {
                continue;
            }
            Shape w = base.weight(module + ".weight").getShape();
            int out = (int) w.get(0);
            int in = (int) w.get(1);
            SplittableRandom rnd = new SplittableRandom(seed ^ (module.hashCode() * 0x9E3779B97F4A7C15L));
            float[] a = new float[config.r() * in];
            double bound = 1.0 / Math.sqrt(in);
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
            }
            NDArray aArr = manager.create(a, new Shape(config.r(), in)).toType(base.dataType(), false);
            NDArray bArr = manager.zeros(new Shape(out, config.r()), base.dataType());
            modules.put(module, new NDArray[] {aArr, bArr});
        }
        Map<String, NDArray> saved = new LinkedHashMap<>();
        for (String m : config.modulesToSave()) {
            String weight = LoraConfig.SAVABLE.get(m);
            NDArray copy = base.weight(weight).duplicate();
            copy.attach(manager);
            saved.put(weight, copy);
        }
        return new LoraAdapter(config, manager, modules, saved);
    }

    /** An adapter from PEFT tensors ({@code base_model.model.<module>.lora_A.weight} ...). */
    public static LoraAdapter fromTensors(LlamaModel base, LoraConfig config, Map<String, Tensor> tensors) {
        NDManager manager = base.manager().newSubManager();
        Map<String, NDArray[]> modules = new LinkedHashMap<>();
        try {
            for (String module : base.projectionModules()) {
                Tensor a = tensors.get(PEFT_PREFIX + module + ".lora_A.weight");
                Tensor b = tensors.get(PEFT_PREFIX + module + ".lora_B.weight");
                if (a == null && b == null) {
                    continue;
                }
                if (a == null || b == null) {
                    throw new IllegalArgumentException("adapter holds only one of lora_A/lora_B for " + module);
                }
                Shape w = base.weight(module + ".weight").getShape();
                if (a.shape().length != 2 || b.shape().length != 2 || a.shape()[1] != w.get(1) || b.shape()[0] != w.get(0)
                        || a.shape()[0] != b.shape()[1]) {
                    throw new IllegalArgumentException("adapter matrices for " + module + " do not fit the base model");
                }
                NDArray aArr = manager.create(a.toFloats(), new Shape(a.shape())).toType(base.dataType(), false);
                NDArray bArr = manager.create(b.toFloats(), new Shape(b.shape())).toType(base.dataType(), false);
                modules.put(module, new NDArray[] {aArr, bArr});
            }
            if (modules.isEmpty()) {
                throw new IllegalArgumentException("adapter holds no LoRA matrices for this base model");
            }
            Map<String, NDArray> saved = new LinkedHashMap<>();
            for (String weight : LoraConfig.SAVABLE.values()) {
                Tensor t = tensors.get(PEFT_PREFIX + weight);
                if (t != null) {
                    Shape expected = base.weight(weight).getShape();
                    if (!java.util.Arrays.equals(t.shape(), expected.getShape())) {
                        throw new IllegalArgumentException("adapter's " + weight + " does not fit the base model");
                    }
                    saved.put(weight, manager.create(t.toFloats(), expected).toType(base.dataType(), false));
                }
            }
            return new LoraAdapter(config, manager, modules, saved);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** The matrices {A, B} of a module, or null when it has no adapter. */
    public NDArray[] module(String module) {
        return modules.get(module);
    }

    public LoraConfig config() {
        return config;
    }

    /** Adapted module names in model order. */
    public List<String> moduleNames() {
        return Collections.unmodifiableList(new ArrayList<>(modules.keySet()));
    }

    /** Trainable arrays by PEFT tensor name. */
    public Map<String, NDArray> parameters() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        modules.forEach((m, ab) -> {
            out.put(PEFT_PREFIX + m + ".lora_A.weight", ab[0]);
            out.put(PEFT_PREFIX + m + ".lora_B.weight", ab[1]);
        });
        saved.forEach((weight, arr) -> out.put(PEFT_PREFIX + weight, arr));
        return out;
    }

    /** The adapter as float32 safetensors tensors (PEFT names). */
    public Map<String, Tensor> toTensors() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        parameters().forEach((name, arr) -> out.put(name, LlamaModel.toTensor(arr)));
        return out;
    }

    /** Number of trainable values. */
    public long parameterCount() {
        long n = 0;
        for (NDArray[] ab : modules.values()) {
            n += ab[0].size() + ab[1].size();
        }
        for (NDArray w : saved.values()) {
            n += w.size();
        }
        return n;
    }

    DataType dataType() {
        return modules.values().iterator().next()[0].getDataType();
    }

    @Override
    public void close() {
        manager.close();
    }
}
