package dev.mlinfra.engine;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import com.sun.jna.Library;
import com.sun.jna.Native;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Prepares the DJL PyTorch engine for offline CPU use and hands it out.
 *
 * <p>The native library comes from the {@code pytorch-native-cpu} jar on the class path and is
 * extracted once into a cache directory below the platform's data folder; nothing is downloaded.
 * Must run before any other DJL call in the process.
 *
 * <p>It also tells glibc's allocator to keep freed memory in the process. By default glibc hands
 * large blocks back to the kernel (blocks above its dynamic mmap threshold are unmapped on free,
 * and the tops and whole heaps of thread arenas are released), so a training step that frees its
 * activations and allocates them again in the next step page-faults them in anew: 20,000-30,000
 * faults per step at batch 8 × 512, and a first touch costs up to 20 µs per 4 KiB page on the
 * virtual machines this runs on (steps were 12-60 % slower than with the settings below).
 */
public final class EngineRuntime {

    /** System property naming the DJL cache directory; overrides every default. */
    public static final String CACHE_DIR_PROPERTY = "mlinfra.djl.cache-dir";
    /** Environment variable naming the DJL cache directory. */
    public static final String CACHE_DIR_ENV = "MLINFRA_DJL_CACHE_DIR";
    /** System property naming the platform's data directory ({@code .mlinfra} by default). */
    public static final String DATA_DIR_PROPERTY = "mlinfra.data-dir";

    private static final Logger LOG = LoggerFactory.getLogger(EngineRuntime.class);
    /** glibc {@code mallopt} parameters (malloc.h). */
    private static final int M_TRIM_THRESHOLD = -1;
    private static final int M_TOP_PAD = -2;
    private static final int M_MMAP_THRESHOLD = -3;
    private static volatile Engine engine;

    private EngineRuntime() {
    }

    /** The platform's data directory: {@code -Dmlinfra.data-dir}, {@code MLINFRA_DATA_DIR} or {@code ./.mlinfra}. */
    public static Path dataDir() {
        String configured = System.getProperty(DATA_DIR_PROPERTY, System.getenv("MLINFRA_DATA_DIR"));
        return Paths.get(configured == null || configured.isBlank() ? ".mlinfra" : configured).toAbsolutePath();
    }

    /** Where the native library is cached, as resolved for this process. */
    public static Path cacheDir() {
        String configured = System.getProperty(CACHE_DIR_PROPERTY, System.getenv(CACHE_DIR_ENV));
        if (configured == null || configured.isBlank()) {
            configured = System.getProperty("DJL_CACHE_DIR", System.getenv("DJL_CACHE_DIR"));
        }
        return configured == null || configured.isBlank() ? dataDir().resolve("djl") : Paths.get(configured).toAbsolutePath();
    }

    /** Loads the engine once per process with {@code threads} intra-op threads (0 = one per core). */
    public static Engine engine(int threads) {
        Engine current = engine;
        if (current != null) {
            return current;
        }
        synchronized (EngineRuntime.class) {
            if (engine == null) {
                engine = load(threads);
            }
            return engine;
        }
    }

    /**
     * Compute threads of generation: a decoding step of the miniature models is hundreds of small
     * products, for which waking more threads costs more than it saves (one thread decodes 2-3×
     * faster than two on a 2-core machine; bench/engine/README.md).
     */
    public static final int DECODING_THREADS = 1;

    /** A stretch of work on a number of compute threads; closing it restores the count before. */
    public interface ThreadCount extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Runs what follows on the calling thread with {@code threads} compute threads until the
     * returned count is closed (PyTorch's count holds per calling thread, as OpenMP's does).
     */
    public static ThreadCount threads(int threads) {
        int before = JniUtils.getNumThreads();
        if (before == threads) {
            return () -> { };
        }
        JniUtils.setNumThreads(threads);
        return () -> JniUtils.setNumThreads(before);
    }

    /** Loads the engine with one intra-op thread per core. */
    public static Engine engine() {
        return engine(0);
    }

    private static Engine load(int threads) {
        Path cache = cacheDir();
        try {
            Files.createDirectories(cache);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot create the DJL cache directory " + cache, e);
        }
        System.setProperty("DJL_CACHE_DIR", cache.toString());
        System.setProperty("ENGINE_CACHE_DIR", cache.toString());
        System.setProperty("ai.djl.offline", "true");
        System.setProperty("ai.djl.default_engine", "PyTorch");
        keepFreedMemory();
        // Busy-waiting OpenMP workers starve the JVM's own threads on small machines.
        ensureNativeEnv("OMP_WAIT_POLICY", "PASSIVE");
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        ensureNativeEnv("OMP_NUM_THREADS", Integer.toString(n));
        Engine loaded = Engine.getEngine("PyTorch");
        JniUtils.setNumThreads(n);
        JniUtils.setNumInteropThreads(1);
        JniUtils.setGraphExecutorOptimize(false);
        LOG.info("PyTorch {} ready, compute threads: {}, native cache {}", loaded.getVersion(), n, cache);
        return loaded;
    }

    /**
     * Tensors up to 32 MiB (the largest threshold glibc accepts) come from the arenas instead of
     * fresh mappings, and neither an arena's free top (kept up to the 64 MiB top pad, the size of
     * a thread arena's heap) nor the main heap (trimmed only beyond 1 GiB free) is returned to
     * the kernel. The peak footprint is unchanged; memory freed after the peak stays reserved
     * for the next step.
     */
    private static void keepFreedMemory() {
        try {
            CLib.INSTANCE.mallopt(M_MMAP_THRESHOLD, 32 << 20);
            CLib.INSTANCE.mallopt(M_TOP_PAD, 64 << 20);
            CLib.INSTANCE.mallopt(M_TRIM_THRESHOLD, 1 << 30);
        } catch (Throwable e) {
            LOG.warn("could not tune the C allocator ({}); tensors will be page-faulted in anew", e.toString());
        }
    }

    /** Sets a variable in the C environment (read by libgomp when it loads) unless it is set already. */
    private static void ensureNativeEnv(String name, String value) {
        if (System.getenv(name) != null) {
            return;
        }
        try {
            CLib.INSTANCE.setenv(name, value, 0);
        } catch (Throwable e) {
            LOG.warn("could not set {} for the native library ({}); set it in the process environment", name, e.toString());
        }
    }

    /** Minimal libc binding. */
    private interface CLib extends Library {
        CLib INSTANCE = Native.load("c", CLib.class);

        int setenv(String name, String value, int overwrite);

        int mallopt(int param, int value);
    }
}
