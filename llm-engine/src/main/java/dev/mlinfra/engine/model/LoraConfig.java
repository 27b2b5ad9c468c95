package dev.mlinfra.engine.model;

import java.util.List;

/**
 * LoRA hyperparameters in PEFT's terms.
 *
 * @param r             rank of the update
 * @param alpha         scaling numerator: the update is {@code (alpha / r) * B A x}
 * @param dropout       dropout on the adapter's input while training
 * @param targetModules projection names that carry an adapter (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)
 * @param modulesToSave modules trained in full and saved with the adapter (PEFT's {@code modules_to_save}):
 *                      {@code embed_tokens} and/or {@code lm_head}
 */
public record LoraConfig(int r, double alpha, double dropout, List<String> targetModules, List<String> modulesToSave) {

    /** Attention and MLP projections, as PEFT names them for Llama. */
    public static final List<String> DEFAULT_TARGETS =
            List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    public LoraConfig {
        if (r <= 0) {
            throw new IllegalArgumentException("lora_r must be positive, got " + r);
        }
        if (alpha <= 0) {
            throw new IllegalArgumentException("lora_alpha must be positive, got " + alpha);
        }
        if (dropout < 0 || dropout >= 1) {
            throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + dropout);
        }
        targetModules = targetModules == null || targetModules.isEmpty() ? DEFAULT_TARGETS : List.copyOf(targetModules);
        modulesToSave = modulesToSave == null ? List.of() : List.copyOf(modulesToSave);
        for (String m : modulesToSave) {
            if (!SAVABLE.containsKey(m)) {
                throw new IllegalArgumentException("lora_modules_to_save supports " + SAVABLE.keySet() + ", got " + m);
            }
        }
    }

    /** A config with only LoRA matrices. */
    public LoraConfig(int r, double alpha, double dropout, List<String> targetModules) {
        this(r, alpha, dropout, targetModules, List.of());
    }

    /** Modules that may be trained in full next to the adapter, with their weight names. */
    public static final java.util.Map<String, String> SAVABLE =
            java.util.Map.of("embed_tokens", "model.embed_tokens.weight", "lm_head", "lm_head.weight");

    /** The factor applied to {@code B A x}. */
    public double scaling() {
        return alpha / r;
    }

    /** True when the module (e.g. {@code model.layers.0.self_attn.q_proj}) gets an adapter. */
    public boolean targets(String module) {
        String leaf = module.substring(module.lastIndexOf('.') + 1);
        return targetModules.contains(leaf);
    }
}
