package dev.mlinfra.engine.safetensors;

/** Element types of the safetensors format that the engine reads and writes. */
public enum DType {
    F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1);

    /** Bytes per element. */
    public final int size;

    DType(int size) {
        this.size = size;
    }
}
