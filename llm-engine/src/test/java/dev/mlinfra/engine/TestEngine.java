package dev.mlinfra.engine;

import ai.djl.engine.Engine;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Points the engine's native cache below the module's target directory and loads it once. */
public final class TestEngine {

    private TestEngine() {
    }

    public static Engine engine() {
        if (System.getProperty(EngineRuntime.CACHE_DIR_PROPERTY) == null) {
            System.setProperty(EngineRuntime.CACHE_DIR_PROPERTY, targetDir().resolve("djl-cache").toString());
        }
        if (System.getProperty(EngineRuntime.DATA_DIR_PROPERTY) == null) {
            System.setProperty(EngineRuntime.DATA_DIR_PROPERTY, targetDir().resolve("mlinfra-data").toString());
        }
        return EngineRuntime.engine();
    }

    /** The module's target directory (the parent of java.io.tmpdir under surefire). */
    public static Path targetDir() {
        Path tmp = Paths.get(System.getProperty("java.io.tmpdir")).toAbsolutePath();
        return tmp.getFileName().toString().equals("tmp") && tmp.getParent().getFileName().toString().equals("target")
                ? tmp.getParent() : Paths.get("target").toAbsolutePath();
    }
}
