package dev.mlinfra.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.mlinfra.engine.TestEngine;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DropoutTest {

    private static Engine engine;
    private static NDManager root;

    @BeforeAll
    static void setUp() {
        engine = TestEngine.engine();
        root = NDManager.newBaseManager();
    }

    @AfterAll
    static void tearDown() {
        root.close();
    }

    @Test
    void dropsAboutTheRateAndScalesTheRest() {
        int n = 1 << 20;
        float[] out = Dropout.apply(root.ones(new Shape(1024, n / 1024)), 0.05).toFloatArray();
        int kept = 0;
        for (float v : out) {
            if (v != 0) {
                assertEquals(1 / 0.95f, v);
                kept++;
            }
        }
        // Binomial(n, 0.95): the standard deviation of the kept fraction is 0.0002.
        assertEquals(0.95, kept / (double) n, 0.001);
    }

    @Test
    void masksFollowTheEngineSeedAndDifferBetweenCalls() {
        NDArray x = root.ones(new Shape(3, 50_000));
        engine.setRandomSeed(7);
        float[] first = Dropout.apply(x, 0.3).toFloatArray();
        float[] second = Dropout.apply(x, 0.3).toFloatArray();
        engine.setRandomSeed(7);
        assertArrayEquals(first, Dropout.apply(x, 0.3).toFloatArray());
        assertFalse(Arrays.equals(first, second));
    }

    @Test
    void gradientIsTheMask() {
        NDArray x = root.randomNormal(new Shape(64, 33)).toType(DataType.FLOAT64, false);
        x.setRequiresGradient(true);
        double[] out;
        double[] grad;
        try (GradientCollector gc = engine.newGradientCollector()) {
            NDArray y = Dropout.apply(x, 0.5);
            out = y.toDoubleArray();
            gc.backward(y.sum());
        }
        try (NDArray g = x.getGradient()) {
            grad = g.toDoubleArray();
        }
        double[] in = x.toDoubleArray();
        boolean dropped = false;
        for (int i = 0; i < in.length; i++) {
            assertTrue(grad[i] == 0 || grad[i] == 2, "gradient " + grad[i]);
            assertEquals(in[i] * grad[i], out[i], 1e-12);
            dropped |= grad[i] == 0;
        }
        assertTrue(dropped);
    }
}
