package dev.mlinfra.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Inverted dropout ({@code x * mask}, the mask {@code 1/(1-rate)} with probability
 * {@code 1 - rate} and 0 otherwise, element by element), as {@code torch.nn.Dropout} in training
 * mode, with the mask drawn on the JVM.
 *
 * <p>PyTorch draws dropout masks on the CPU with one sequential generator, about 7 ms per
 * million elements including the mask arithmetic; the LoRA inputs of one training step at batch
 * 8 × 512 hold 30 million elements, so dropout took a third of a LoRA step. Here each call draws
 * one seed from PyTorch's generator (so {@code Engine.setRandomSeed} still makes runs
 * reproducible) and fills the mask in chunks on all cores, every chunk with its own
 * {@link SplittableRandom} split off that seed in chunk order, so the mask does not depend on
 * the number of threads.
 */
final class Dropout {

    private static final int CHUNK = 1 << 14;

    private Dropout() {
    }

    /** {@code x} with each element zeroed with probability {@code rate} and the rest scaled by {@code 1/(1-rate)}. */
    static NDArray apply(NDArray x, double rate) {
        NDArray mask = x.getManager().create(x.getShape(), DataType.FLOAT32);
        long seed = x.getManager().randomInteger(0, Long.MAX_VALUE, new Shape(), DataType.INT64).getLong();
        fill(((PtNDArray) mask).toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer(), rate, seed);
        return x.mul(x.getDataType() == DataType.FLOAT32 ? mask : mask.toType(x.getDataType(), false));
    }

    private static void fill(FloatBuffer out, double rate, long seed) {
        int n = out.capacity();
        int chunks = (n + CHUNK - 1) / CHUNK;
        SplittableRandom root = new SplittableRandom(seed);
        SplittableRandom[] randoms = new SplittableRandom[chunks];
        for (int c = 0; c < chunks; c++) {
            randoms[c] = root.split();
        }
        // Keep an element when a uniform 32-bit draw falls below (1 - rate) * 2^32.
        long threshold = Math.round((1 - rate) * 0x1p32);
        float kept = (float) (1 / (1 - rate));
        IntStream.range(0, chunks).parallel().forEach(c -> {
            SplittableRandom random = randoms[c];
            int from = c * CHUNK;
            float[] values = new float[Math.min(CHUNK, n - from)];
            for (int i = 0; i < values.length; i += 2) {
                long bits = random.nextLong();
                values[i] = (bits & 0xffffffffL) < threshold ? kept : 0f;
                if (i + 1 < values.length) {
                    values[i + 1] = (bits >>> 32) < threshold ? kept : 0f;
                }
            }
            out.put(from, values);
        });
    }
}
