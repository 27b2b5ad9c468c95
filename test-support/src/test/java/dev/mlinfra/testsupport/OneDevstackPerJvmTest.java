package dev.mlinfra.testsupport;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

/**
 * Quarkus loads test classes and their libraries in a class loader per test profile; the devstack
 * must still be one per JVM. A second, isolated class loader over the same class path stands in
 * for such a profile's loader here.
 */
class OneDevstackPerJvmTest {

    @Test
    void anotherClassLoaderSeesTheSameDevstack() throws Exception {
        String pid = Devstack.state().get("pid");
        URL[] classPath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(entry -> {
                    try {
                        return Path.of(entry).toUri().toURL();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                })
                .toArray(URL[]::new);

        try (URLClassLoader profileLoader = new URLClassLoader(classPath, ClassLoader.getPlatformClassLoader())) {
            Class<?> isolated = profileLoader.loadClass(Devstack.class.getName());
            assertNotSame(Devstack.class, isolated);

            @SuppressWarnings("unchecked")
            Map<String, String> seen = (Map<String, String>) isolated.getMethod("state").invoke(null);
            assertEquals(pid, seen.get("pid"), "the isolated copy talks to the devstack already running");
            assertEquals(Devstack.kafkaBootstrapServers(), isolated.getMethod("kafkaBootstrapServers").invoke(null));
        }
    }
}
