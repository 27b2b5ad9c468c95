package dev.mlinfra.engine.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.mlinfra.engine.safetensors.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW (decoupled weight decay) with bias correction. Moments live in their own manager so that
 * checkpoints can save and restore them. Call {@link #update} with gradients already clipped and
 * with autograd recording off (the updates are in place).
 */
public final class AdamW implements AutoCloseable {

    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double EPS = 1e-8;

    private final NDManager manager;
    private final double weightDecay;
    private final Map<String, NDArray[]> moments = new LinkedHashMap<>();

    public AdamW(NDManager parent, double weightDecay) {
        this.manager = parent.newSubManager();
        this.weightDecay = weightDecay;
    }

    /** One update of {@code param} from {@code grad} at optimizer step {@code step} (1-based). */
    public void update(String name, NDArray param, NDArray grad, double lr, int step) {
        NDArray[] mv = moments.computeIfAbsent(name, n -> {
            NDArray[] fresh = {manager.zeros(param.getShape(), param.getDataType()),
                manager.zeros(param.getShape(), param.getDataType())};
            NDScope.unregister(fresh);
            return fresh;
        });
        NDArray m = mv[0];
        NDArray v = mv[1];
        m.muli(BETA1).addi(grad.mul(1 - BETA1));
        v.muli(BETA2).addi(grad.square().muli(1 - BETA2));
        double c1 = 1 - Math.pow(BETA1, step);
        double c2 = 1 - Math.pow(BETA2, step);
        if (weightDecay > 0) {
            param.muli(1 - lr * weightDecay);
        }
        try (NDArray denom = v.div(c2).sqrt().addi(EPS); NDArray stepArr = m.div(denom).muli(lr / c1)) {
            param.subi(stepArr);
        }
    }

    /** The moments as tensors ({@code exp_avg.<name>}, {@code exp_avg_sq.<name>}). */
    public Map<String, Tensor> state() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        moments.forEach((name, mv) -> {
            out.put("exp_avg." + name, Tensor.ofFloats(mv[0].getShape().getShape(), mv[0].toFloatArray()));
            out.put("exp_avg_sq." + name, Tensor.ofFloats(mv[1].getShape().getShape(), mv[1].toFloatArray()));
        });
        return out;
    }

    /** Restores moments written by {@link #state()}. */
    public void load(Map<String, Tensor> state, Map<String, NDArray> params) {
        params.forEach((name, p) -> {
            Tensor m = state.get("exp_avg." + name);
            Tensor v = state.get("exp_avg_sq." + name);
            if (m != null && v != null) {
                NDArray[] loaded = {manager.create(m.toFloats(), p.getShape()).toType(p.getDataType(), false),
                    manager.create(v.toFloats(), p.getShape()).toType(p.getDataType(), false)};
                NDScope.unregister(loaded);
                moments.put(name, loaded);
            }
        });
    }

    @Override
    public void close() {
        manager.close();
    }
}
