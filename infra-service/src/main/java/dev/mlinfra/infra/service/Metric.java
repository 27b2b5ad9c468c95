package dev.mlinfra.infra.service;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The usage figures the platform reports, each in percent. */
public enum Metric {
    CPU("cpu", "cpu_usage"),
    MEMORY("memory", "memory_usage"),
    GPU("gpu", "gpu_usage"),
    STORAGE("storage", "storage_usage");

    /** The name in the {@code metric} parameter and in storage. */
    public final String value;
    /** The key in responses. */
    public final String key;

    Metric(String value, String key) {
        this.value = value;
        this.key = key;
    }

    /** The metric of a parameter value; null when there is none by that name. */
    public static Metric of(String value) {
        return Arrays.stream(values()).filter(m -> m.value.equals(value)).findFirst().orElse(null);
    }

    public static String allowed() {
        return Arrays.stream(values()).map(m -> m.value).collect(Collectors.joining(", "));
    }
}
