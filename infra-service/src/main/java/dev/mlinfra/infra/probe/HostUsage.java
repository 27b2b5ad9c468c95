package dev.mlinfra.infra.probe;

import dev.mlinfra.infra.config.InfraConfig;
import dev.mlinfra.infra.service.Metric;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Resource usage as this machine (or this container, within its cgroup limits) reports it: CPU from
 * {@code /proc/stat} or the cgroup's {@code cpu.stat} against its quota, memory from
 * {@code /proc/meminfo} or the cgroup's {@code memory.current} against {@code memory.max}, storage
 * from the object store's file system, GPU utilization from {@code nvidia-smi} (no figure at all
 * where there is none), and per component the CPU and memory of its processes. Blocking: call it
 * on a worker thread. CPU figures are differences between two readings, so the first reading has none.
 */
@ApplicationScoped
public class HostUsage {

    /** The marker of a component that is this process (infra-service itself). */
    public static final String SELF = "self";

    /** How long nvidia-smi may take to answer. */
    private static final long GPU_QUERY_TIMEOUT_SECONDS = 5;
    private static final Logger LOG = Logger.getLogger(HostUsage.class);
    /** The key of the platform's own figures in a {@link Reading}. */
    public static final String HOST = "host";
    private static final Path PROC = Path.of("/proc");
    private static final Path CGROUP = Path.of("/sys/fs/cgroup");

    /** One reading: per key (host or component), its figures in percent. */
    public record Reading(Instant at, Map<String, Map<Metric, Double>> figures, int gpus) {
        public Map<Metric, Double> host() {
            return figures.getOrDefault(HOST, Map.of());
        }
    }

    private final InfraConfig.Local config;
    private final long self = ProcessHandle.current().pid();
    private volatile Boolean hasNvidiaSmi;
    private long[] previousCpu;
    private long previousNanos;
    private Map<Long, Double> previousProcessCpu = Map.of();

    public HostUsage(InfraConfig config) {
        this.config = config.local();
    }

    public synchronized Reading read() {
        long nanos = System.nanoTime();
        double elapsed = previousNanos == 0 ? 0 : (nanos - previousNanos) / 1e9;
        Map<String, Map<Metric, Double>> figures = new LinkedHashMap<>();
        Map<Metric, Double> host = new EnumMap<>(Metric.class);
        put(host, Metric.CPU, cpu());
        double memoryTotal = memoryTotal();
        put(host, Metric.MEMORY, memory());
        put(host, Metric.STORAGE, fill(Path.of(config.storagePath().orElse("."))));
        List<Double> gpus = gpuUtilization();
        OptionalDouble gpuAverage = gpus.stream().mapToDouble(Double::doubleValue).filter(v -> !Double.isNaN(v)).average();
        if (gpuAverage.isPresent()) {
            host.put(Metric.GPU, gpuAverage.getAsDouble());
        }
        figures.put(HOST, host);

        ProcessTable table = ProcessTable.read(PROC);
        Map<Long, Double> processCpu = new HashMap<>();
        // each component's own processes: infra-service itself (whose command line names every marker as
        // configuration) and the processes of other components (PostgreSQL, started by the devstack) are not
        Map<String, Set<Long>> roots = new HashMap<>();
        config.processes().forEach((component, marker) -> roots.put(component,
                SELF.equals(marker) ? Set.of(self) : table.roots(marker, Set.of(self))));
        config.processes().forEach((component, marker) -> {
            Map<Metric, Double> f = new EnumMap<>(Metric.class);
            Set<Long> others = new HashSet<>(Set.of(self));
            roots.forEach((c, r) -> {
                if (!c.equals(component)) {
                    others.addAll(r);
                }
            });
            others.removeAll(roots.get(component));
            List<ProcessTable.Proc> procs = table.withDescendants(roots.get(component), others);
            if (!procs.isEmpty()) {
                double cpuSeconds = 0;
                boolean known = elapsed > 0;
                for (ProcessTable.Proc p : procs) {
                    processCpu.put(p.pid(), p.cpuSeconds());
                    Double before = previousProcessCpu.get(p.pid());
                    // a process that started since the last reading counts its CPU time from its start
                    cpuSeconds += p.cpuSeconds() - (before == null ? 0 : before);
                }
                if (known) {
                    f.put(Metric.CPU, clamp(100 * cpuSeconds / (elapsed * Runtime.getRuntime().availableProcessors())));
                }
                if (memoryTotal > 0) {
                    f.put(Metric.MEMORY, clamp(100 * procs.stream().mapToLong(ProcessTable.Proc::residentBytes).sum() / memoryTotal));
                }
            }
            String dir = config.dataDirs().get(component);
            if (dir != null) {
                put(f, Metric.STORAGE, fill(Path.of(dir)));
            }
            if (!f.isEmpty()) {
                figures.put(component, f);
            }
        });
        config.dataDirs().forEach((component, dir) -> {
            if (!config.processes().containsKey(component)) {
                Map<Metric, Double> f = new EnumMap<>(Metric.class);
                put(f, Metric.STORAGE, fill(Path.of(dir)));
                if (!f.isEmpty()) {
                    figures.put(component, f);
                }
            }
        });
        previousProcessCpu = processCpu;
        previousNanos = nanos;
        return new Reading(Instant.now(), figures, gpus.size());
    }

    private static void put(Map<Metric, Double> figures, Metric metric, OptionalDouble value) {
        value.ifPresent(v -> figures.put(metric, v));
    }

    private static double clamp(double percent) {
        return Math.max(0, Math.min(100, percent));
    }

    /** Busy share of the CPUs this process may use, since the previous reading. */
    private OptionalDouble cpu() {
        long[] now;
        double capacity;
        long[] quota = cgroupCpuQuota();
        if (quota != null) {
            // cgroup: microseconds used against the quota's CPUs times the wall time
            Long used = cgroupValue("cpu.stat", "usage_usec");
            if (used == null) {
                return OptionalDouble.empty();
            }
            now = new long[] {used, System.nanoTime() / 1000};
            capacity = (double) quota[0] / quota[1];
        } else {
            now = procStatCpu();
            capacity = 1;
            if (now == null) {
                return OptionalDouble.empty();
            }
        }
        long[] before = previousCpu;
        previousCpu = now;
        if (before == null || before.length != now.length) {
            return OptionalDouble.empty();
        }
        if (quota != null) {
            double wall = now[1] - before[1];
            return wall <= 0 ? OptionalDouble.empty() : OptionalDouble.of(clamp(100 * (now[0] - before[0]) / (wall * capacity)));
        }
        double total = now[0] - before[0];
        return total <= 0 ? OptionalDouble.empty() : OptionalDouble.of(clamp(100 * (total - (now[1] - before[1])) / total));
    }

    /** {total, idle} jiffies of all CPUs from /proc/stat. */
    private static long[] procStatCpu() {
        try {
            String line = Files.readAllLines(PROC.resolve("stat"), StandardCharsets.UTF_8).get(0);
            String[] f = line.trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < Math.min(f.length, 9); i++) {
                total += Long.parseLong(f[i]);
            }
            return new long[] {total, Long.parseLong(f[4]) + Long.parseLong(f[5])};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** {quota, period} of the cgroup's cpu.max; null when unlimited or not in a cgroup v2. */
    private static long[] cgroupCpuQuota() {
        try {
            String[] f = Files.readString(CGROUP.resolve("cpu.max")).trim().split("\\s+");
            return f[0].equals("max") ? null : new long[] {Long.parseLong(f[0]), Long.parseLong(f[1])};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static Long cgroupValue(String file, String key) {
        try {
            for (String line : Files.readAllLines(CGROUP.resolve(file))) {
                String[] f = line.split("\\s+");
                if (f.length == 2 && f[0].equals(key)) {
                    return Long.parseLong(f[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }

    /** The memory limit of the cgroup when one is set, else the machine's memory; 0 when unknown. */
    private static double memoryTotal() {
        Long limit = cgroupMemoryLimit();
        if (limit != null) {
            return limit;
        }
        Long total = meminfo("MemTotal");
        return total == null ? 0 : total * 1024.0;
    }

    private static Long cgroupMemoryLimit() {
        try {
            String max = Files.readString(CGROUP.resolve("memory.max")).trim();
            return max.equals("max") ? null : Long.parseLong(max);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Memory in use, without the page cache the kernel gives back on demand. */
    private static OptionalDouble memory() {
        Long limit = cgroupMemoryLimit();
        if (limit != null) {
            try {
                long current = Long.parseLong(Files.readString(CGROUP.resolve("memory.current")).trim());
                Long inactiveFile = cgroupValue("memory.stat", "inactive_file");
                return OptionalDouble.of(clamp(100.0 * (current - (inactiveFile == null ? 0 : inactiveFile)) / limit));
            } catch (IOException | RuntimeException e) {
                return OptionalDouble.empty();
            }
        }
        Long total = meminfo("MemTotal");
        Long available = meminfo("MemAvailable");
        return total == null || available == null || total == 0 ? OptionalDouble.empty()
                : OptionalDouble.of(clamp(100.0 * (total - available) / total));
    }

    private static Long meminfo(String key) {
        try {
            for (String line : Files.readAllLines(PROC.resolve("meminfo"))) {
                if (line.startsWith(key + ":")) {
                    return Long.parseLong(line.substring(key.length() + 1).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }

    /** How full the file system holding {@code path} is, as {@code df} counts it. */
    static OptionalDouble fill(Path path) {
        try {
            FileStore store = Files.getFileStore(path);
            double used = store.getTotalSpace() - store.getUnallocatedSpace();
            double denominator = used + store.getUsableSpace();
            return denominator <= 0 ? OptionalDouble.empty() : OptionalDouble.of(clamp(100 * used / denominator));
        } catch (IOException | RuntimeException e) {
            return OptionalDouble.empty();
        }
    }

    /**
     * Utilization of each GPU in percent, NaN for a GPU that reports none (a MIG-partitioned one
     * says {@code [N/A]}); empty when the machine has none (no nvidia-smi, or it lists none). The
     * output goes to a file, so that an nvidia-smi that hangs (a wedged driver) is given up after
     * its timeout instead of holding every later sample.
     */
    List<Double> gpuUtilization() {
        if (Boolean.FALSE.equals(hasNvidiaSmi)) {
            return List.of();
        }
        List<Double> values = new ArrayList<>();
        Path out = null;
        try {
            out = Files.createTempFile("nvidia-smi", ".csv");
            Process p = new ProcessBuilder(config.nvidiaSmi(), "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits")
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(GPU_QUERY_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                LOG.warnf("%s did not answer within %d s; gpu_usage has no figure this time", config.nvidiaSmi(),
                        GPU_QUERY_TIMEOUT_SECONDS);
                return List.of();
            }
            if (p.exitValue() == 0) {
                for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
                    if (!line.isBlank()) {
                        values.add(percent(line.trim()));
                    }
                }
            }
            hasNvidiaSmi = true;
        } catch (IOException e) {
            if (hasNvidiaSmi == null) {
                LOG.infof("no GPU on this machine (%s: %s): gpu_usage has no figure", config.nvidiaSmi(), e.getMessage());
            }
            hasNvidiaSmi = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.warnf("could not read GPU utilization from %s: %s", config.nvidiaSmi(), e.getMessage());
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException e) {
                    LOG.debugf("could not remove %s: %s", out, e.getMessage());
                }
            }
        }
        return values;
    }

    /** One GPU's utilization as nvidia-smi prints it, NaN when it has no figure ({@code [N/A]}). */
    private static double percent(String value) {
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }
}
