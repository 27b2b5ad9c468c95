package dev.mlinfra.infra.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.infra.config.InfraConfig;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GPU utilization as nvidia-smi reports it, run as a script that stands in for it. */
class HostUsageGpuTest {

    @TempDir
    Path dir;

    /** HostUsage with {@code script} as its nvidia-smi. */
    private HostUsage withNvidiaSmi(String script) throws Exception {
        Path command = dir.resolve("nvidia-smi");
        Files.writeString(command, "#!/bin/sh\n" + script + "\n");
        Files.setPosixFilePermissions(command, PosixFilePermissions.fromString("rwx------"));
        InfraConfig.Local local = (InfraConfig.Local) Proxy.newProxyInstance(InfraConfig.class.getClassLoader(),
                new Class<?>[] {InfraConfig.Local.class}, (proxy, method, args) -> "nvidiaSmi".equals(method.getName())
                        ? command.toString() : null);
        InfraConfig config = (InfraConfig) Proxy.newProxyInstance(InfraConfig.class.getClassLoader(),
                new Class<?>[] {InfraConfig.class}, (proxy, method, args) -> "local".equals(method.getName()) ? local : null);
        return new HostUsage(config);
    }

    @Test
    void eachGpuCountsAndOneWithoutAFigureHasNone() throws Exception {
        List<Double> gpus = withNvidiaSmi("echo 37; echo '[N/A]'").gpuUtilization();
        assertEquals(2, gpus.size(), gpus.toString());
        assertEquals(37.0, gpus.get(0));
        assertTrue(Double.isNaN(gpus.get(1)), "a MIG-partitioned GPU reports no utilization: " + gpus);
    }

    @Test
    void anNvidiaSmiThatHangsIsGivenUpAndTheSamplingGoesOn() throws Exception {
        HostUsage usage = withNvidiaSmi("exec sleep 120");
        // well above nvidia-smi's timeout of 5 s, far below the minutes a hung one would hold the sampler
        List<Double> gpus = assertTimeoutPreemptively(Duration.ofSeconds(30), usage::gpuUtilization);
        assertTrue(gpus.isEmpty(), gpus.toString());
    }
}
