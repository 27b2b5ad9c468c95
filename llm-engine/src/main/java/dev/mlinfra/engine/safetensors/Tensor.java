package dev.mlinfra.engine.safetensors;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** One tensor as stored: element type, shape and little-endian bytes. */
public record Tensor(DType dtype, long[] shape, byte[] data) {

    /** A float32 tensor from Java floats. */
    public static Tensor ofFloats(long[] shape, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return new Tensor(DType.F32, shape, b.array());
    }

    /** A bfloat16 tensor from Java floats, each rounded to the nearest bfloat16 (ties to even). */
    public static Tensor ofBf16(long[] shape, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            int bits = Float.floatToRawIntBits(v);
            if (Float.isNaN(v)) {
                b.putShort((short) 0x7fc0);
            } else {
                int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
                b.putShort((short) (rounded >>> 16));
            }
        }
        return new Tensor(DType.BF16, shape, b.array());
    }

    /** The values as Java floats (F32, F64, F16 and BF16 are converted). */
    public float[] toFloats() {
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int n = data.length / dtype.size;
        float[] out = new float[n];
        switch (dtype) {
            case F32 -> b.asFloatBuffer().get(out);
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = (float) b.getDouble();
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat((b.getShort() & 0xffff) << 16);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.float16ToFloat(b.getShort());
                }
            }
            default -> throw new IllegalStateException("tensor of type " + dtype + " is not floating point");
        }
        return out;
    }

    /** Number of elements. */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
