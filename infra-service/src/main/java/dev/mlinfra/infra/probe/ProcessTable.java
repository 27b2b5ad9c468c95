package dev.mlinfra.infra.probe;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One reading of {@code /proc}: every process with its parent, command line, CPU time and resident
 * memory. Linux only; elsewhere the table is empty and components have no process figures.
 */
public final class ProcessTable {

    /** Linux reports CPU time in USER_HZ ticks, 100 a second on every architecture it runs on. */
    private static final double TICKS_PER_SECOND = 100;
    private static final long PAGE_SIZE = 4096;

    public record Proc(long pid, long parent, String commandLine, double cpuSeconds, long residentBytes) {
    }

    private final Map<Long, Proc> processes;

    private ProcessTable(Map<Long, Proc> processes) {
        this.processes = processes;
    }

    public static ProcessTable read(Path proc) {
        Map<Long, Proc> processes = new HashMap<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(proc, p -> p.getFileName().toString().chars().allMatch(Character::isDigit))) {
            for (Path dir : dirs) {
                Proc p = readOne(dir);
                if (p != null) {
                    processes.put(p.pid(), p);
                }
            }
        } catch (IOException e) {
            return new ProcessTable(Map.of());
        }
        return new ProcessTable(processes);
    }

    /** One process; null when it ended while being read. */
    private static Proc readOne(Path dir) {
        try {
            long pid = Long.parseLong(dir.getFileName().toString());
            String stat = Files.readString(dir.resolve("stat"), StandardCharsets.UTF_8);
            // the command name may hold spaces and parentheses: the fields start after the last ')'
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
            long parent = Long.parseLong(f[1]);
            double cpu = (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
            String[] statm = Files.readString(dir.resolve("statm"), StandardCharsets.UTF_8).trim().split(" ");
            long rss = Long.parseLong(statm[1]) * PAGE_SIZE;
            byte[] cmd = Files.readAllBytes(dir.resolve("cmdline"));
            String commandLine = new String(cmd, StandardCharsets.UTF_8).replace('\0', ' ').trim();
            return new Proc(pid, parent, commandLine, cpu, rss);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    public Proc get(long pid) {
        return processes.get(pid);
    }

    /** The processes whose command line holds {@code marker}, except {@code excluded}. */
    public Set<Long> roots(String marker, Set<Long> excluded) {
        Set<Long> roots = new HashSet<>();
        processes.values().stream().filter(p -> !excluded.contains(p.pid()) && p.commandLine().contains(marker))
                .forEach(p -> roots.add(p.pid()));
        return roots;
    }

    /**
     * {@code roots} with all their descendants (PostgreSQL's backends, a trainer's children), each once,
     * except the {@code excluded} ones and theirs (a process a component of its own, started by another).
     */
    public List<Proc> withDescendants(Set<Long> roots, Set<Long> excluded) {
        Map<Long, List<Proc>> children = new HashMap<>();
        for (Proc p : processes.values()) {
            children.computeIfAbsent(p.parent(), k -> new ArrayList<>()).add(p);
        }
        Set<Long> seen = new HashSet<>();
        ArrayDeque<Proc> pending = new ArrayDeque<>();
        roots.stream().map(processes::get).filter(java.util.Objects::nonNull).forEach(pending::add);
        List<Proc> found = new ArrayList<>();
        while (!pending.isEmpty()) {
            Proc p = pending.poll();
            if (seen.add(p.pid())) {
                found.add(p);
                children.getOrDefault(p.pid(), List.of()).stream().filter(c -> !excluded.contains(c.pid())).forEach(pending::add);
            }
        }
        return found;
    }
}
