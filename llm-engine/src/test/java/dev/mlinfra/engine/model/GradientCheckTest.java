package dev.mlinfra.engine.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.mlinfra.engine.TestEngine;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Compares autograd gradients with central finite differences in float64 on a tiny model whose
 * second layer is a mixture of experts with top-2 routing, for attention, routing, experts and LoRA.
 */
class GradientCheckTest {

    private static final double EPS = 1e-6;
    private static final double TOLERANCE = 1e-5;

    private static Engine engine;
    private static NDManager root;
    private static LlamaModel model;
    private static LoraAdapter adapter;
    private static long[] ids;
    private static NDArray probe;

    static ModelConfig tinyConfig() {
        return new ModelConfig(List.of("Llama4ForCausalLM"), "llama4_text", "scout", 264, 16, 8, 12, 2, 4, 2, 4, 4, 2,
                List.of(1), List.of(1, 0), true, 10000, 1e-5, 32, 0.2, 99, 2, 256, List.of(257), 261, false, "float32");
    }

    @BeforeAll
    static void setUp() {
        engine = TestEngine.engine();
        root = NDManager.newBaseManager();
        ModelConfig config = tinyConfig();
        model = LlamaModel.fromTensors(config, LlamaModel.initialWeights(config), root, DataType.FLOAT64);
        adapter = LoraAdapter.create(model, new LoraConfig(2, 4, 0, null), 5);
        // Non-zero B so that gradients reach A as well.
        Random random = new Random(3);
        for (NDArray p : adapter.parameters().values()) {
            double[] values = new double[(int) p.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = random.nextGaussian() * 0.3;
            }
            p.set(values);
        }
        ids = new long[] {256, 72, 101, 108, 108, 111, 32, 33, 10, 200, 7, 99};
        double[] weights = new double[ids.length * config.vocabSize()];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = random.nextGaussian();
        }
        probe = root.create(weights, new Shape(1, ids.length, config.vocabSize()));
    }

    @AfterAll
    static void tearDown() {
        adapter.close();
        model.close();
        root.close();
    }

    /** A scalar that depends on every logit: sum(logits * fixed random weights). */
    private static double loss() {
        try (NDScope scope = new NDScope(); NDManager m = root.newSubManager()) {
            scope.suppressNotUsedWarning();
            return model.forward(m.create(ids, new Shape(1, ids.length)), adapter, false).mul(probe).sum().getDouble();
        }
    }

    private static void check(String name, NDArray param) {
        param.setRequiresGradient(true);
        double[] analytic;
        try (NDScope scope = new NDScope(); NDManager m = root.newSubManager()) {
            scope.suppressNotUsedWarning();
            try (GradientCollector gc = engine.newGradientCollector()) {
                NDArray l = model.forward(m.create(ids, new Shape(1, ids.length)), adapter, false).mul(probe).sum();
                gc.backward(l);
            }
            try (NDArray g = param.getGradient()) {
                analytic = g.toDoubleArray();
            }
        }
        param.setRequiresGradient(false);
        boolean grad = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            double[] values = param.toDoubleArray();
            Random random = new Random(name.hashCode());
            double worst = 0;
            for (int n = 0; n < 6; n++) {
                int i = random.nextInt(values.length);
                double original = values[i];
                values[i] = original + EPS;
                param.set(values);
                double plus = loss();
                values[i] = original - EPS;
                param.set(values);
                double minus = loss();
                values[i] = original;
                param.set(values);
                double numeric = (plus - minus) / (2 * EPS);
                double error = Math.abs(numeric - analytic[i]) / Math.max(1e-3, Math.abs(numeric) + Math.abs(analytic[i]));
                worst = Math.max(worst, error);
            }
            assertTrue(worst < TOLERANCE, name + ": relative gradient error " + worst);
        } finally {
            JniUtils.setGradMode(grad);
        }
    }

    @Test
    void attentionGradientsMatchFiniteDifferences() {
        for (String p : new String[] {"q_proj", "k_proj", "v_proj", "o_proj"}) {
            check("layer0 " + p, model.weight("model.layers.0.self_attn." + p + ".weight"));
            check("layer1 " + p, model.weight("model.layers.1.self_attn." + p + ".weight"));
        }
        check("input norm", model.weight("model.layers.0.input_layernorm.weight"));
    }

    @Test
    void moeRoutingAndExpertGradientsMatchFiniteDifferences() {
        String p = "model.layers.1.feed_forward.";
        check("router", model.weight(p + "router.weight"));
        check("experts gate_up", model.weight(p + "experts.gate_up_proj"));
        check("experts down", model.weight(p + "experts.down_proj"));
        check("shared expert", model.weight(p + "shared_expert.down_proj.weight"));
        check("dense mlp", model.weight("model.layers.0.feed_forward.gate_proj.weight"));
    }

    @Test
    void loraGradientsMatchFiniteDifferences() {
        Map<String, NDArray> params = adapter.parameters();
        for (String module : List.of("model.layers.0.self_attn.q_proj", "model.layers.1.self_attn.v_proj",
                "model.layers.0.feed_forward.down_proj", "model.layers.1.feed_forward.shared_expert.up_proj")) {
            check(module + " A", params.get(LoraAdapter.PEFT_PREFIX + module + ".lora_A.weight"));
            check(module + " B", params.get(LoraAdapter.PEFT_PREFIX + module + ".lora_B.weight"));
        }
    }

    @Test
    void embeddingAndHeadGradientsMatchFiniteDifferences() {
        check("embed", model.weight("model.embed_tokens.weight"));
        check("lm_head", model.weight("lm_head.weight"));
    }
}
