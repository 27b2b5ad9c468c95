package dev.mlinfra.infra.service;

import dev.mlinfra.infra.GpuPool;
import dev.mlinfra.infra.config.GpuConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;

/**
 * The ledger's decisions, free of storage and messaging: what a model type needs, which requests
 * can never be granted, and who of a pool's queue gets capacity now.
 *
 * <p>A round walks a pool's waiting requests in FIFO order and grants each while it fits. A
 * request that would take its team over the quota is skipped (requests behind it may go); the
 * first request that does not fit the pool's free capacity stops the round, so a large request
 * at the head of the queue is not overtaken forever by smaller ones behind it.
 */
public final class LedgerRules {

    /** A pool as the ledger sees it. */
    public record PoolSpec(String name, GpuPool.Kind kind, int size) {
    }

    /** What one job or deployment of a model type holds. */
    public record Need(String pool, int gpus) {
    }

    /** A waiting request of a pool's queue. */
    public record Waiting(long seq, String team, int gpus) {
    }

    /** What a round does with a waiting request; requests it leaves waiting have no decision. */
    public sealed interface Decision {
        long seq();
    }

    public record Grant(long seq) implements Decision {
    }

    public record Deny(long seq, String reason) implements Decision {
    }

    /** A round's decisions in queue order, and what each team holds after it. */
    public record Round(List<Decision> decisions, Map<String, Integer> held) {
    }

    private final Map<String, PoolSpec> pools;
    private final Map<String, Need> modelTypes;
    private final OptionalInt teamQuota;

    public LedgerRules(Map<String, PoolSpec> pools, Map<String, Need> modelTypes, OptionalInt teamQuota) {
        this.pools = new TreeMap<>(pools);
        this.modelTypes = new TreeMap<>(modelTypes);
        this.teamQuota = teamQuota;
    }

    public static LedgerRules from(GpuConfig config) {
        Map<String, PoolSpec> pools = new HashMap<>();
        config.pools().forEach((name, p) -> pools.put(name, new PoolSpec(name, p.kind(), p.size())));
        Map<String, Need> types = new HashMap<>();
        config.modelTypes().forEach((type, t) -> types.put(type, new Need(t.pool(), t.gpus())));
        return new LedgerRules(pools, types, config.teamQuota());
    }

    /** The configured pools by name. */
    public Map<String, PoolSpec> pools() {
        return pools;
    }

    /** The configured model types by name. */
    public Map<String, Need> modelTypes() {
        return modelTypes;
    }

    public OptionalInt teamQuota() {
        return teamQuota;
    }

    /** What is wrong with the configuration (empty when nothing): the service refuses to start on any. */
    public List<String> problems() {
        List<String> problems = new ArrayList<>();
        if (pools.isEmpty()) {
            problems.add("no GPU pool is configured (mlinfra.gpu.pools.<name>.size)");
        }
        pools.values().forEach(p -> {
            if (p.size() < 0) {
                problems.add("mlinfra.gpu.pools." + p.name() + ".size is " + p.size() + "; expected 0 or more");
            }
        });
        modelTypes.forEach((type, need) -> {
            if (!pools.containsKey(need.pool())) {
                problems.add("mlinfra.gpu.model-types." + type + ".pool is '" + need.pool()
                        + "', which is no configured pool (pools: " + String.join(", ", pools.keySet()) + ")");
            }
            if (need.gpus() < 1) {
                problems.add("mlinfra.gpu.model-types." + type + ".gpus is " + need.gpus() + "; expected 1 or more");
            }
        });
        if (teamQuota.isPresent() && teamQuota.getAsInt() < 1) {
            problems.add("mlinfra.gpu.team-quota is " + teamQuota.getAsInt() + "; expected 1 or more, or no value for no quota");
        }
        return problems;
    }

    /**
     * What the ledger hands out, one line per pool and one for the quota, for the log at start:
     * {@code GPU pool 'local': 1 execution slot (no GPUs on this machine); serves maverick (1), scout (1)}.
     */
    public List<String> summary() {
        List<String> lines = new ArrayList<>();
        pools.values().forEach(p -> {
            List<String> served = modelTypes.entrySet().stream().filter(e -> e.getValue().pool().equals(p.name()))
                    .map(e -> e.getKey() + " (" + e.getValue().gpus() + ")").toList();
            lines.add("GPU pool '" + p.name() + "': " + p.kind().count(p.size())
                    + (p.kind() == GpuPool.Kind.SLOT ? " (no GPUs on this machine)" : "")
                    + "; serves " + (served.isEmpty() ? "no model type" : String.join(", ", served)));
        });
        lines.add(teamQuota.isPresent()
                ? "GPU team quota: one team holds at most " + teamQuota.getAsInt() + " at once, across pools"
                : "GPU team quota: none");
        return lines;
    }

    /** What a model type needs, or empty when no pool serves it. */
    public Optional<Need> need(String modelType) {
        return Optional.ofNullable(modelType == null ? null : modelTypes.get(modelType));
    }

    /** Why a request for a model type that is not configured is denied. */
    public String unknownModelType(String modelType) {
        return modelType == null || modelType.isBlank()
                ? "The request names no model type; model types with GPU capacity: " + String.join(", ", modelTypes.keySet())
                : "No GPU pool serves model type '" + modelType + "'; model types with GPU capacity: "
                        + String.join(", ", modelTypes.keySet());
    }

    /**
     * Why a request for {@code gpus} of {@code pool} can never be granted (more than the pool has,
     * or more than one team may hold), or empty when it can be some day.
     */
    public Optional<String> neverGrantable(PoolSpec pool, int gpus) {
        if (gpus > pool.size()) {
            return Optional.of("Needs " + pool.kind().count(gpus) + " of pool '" + pool.name() + "', which has "
                    + pool.kind().count(pool.size()));
        }
        if (teamQuota.isPresent() && gpus > teamQuota.getAsInt()) {
            return Optional.of("Needs " + pool.kind().count(gpus) + " of pool '" + pool.name()
                    + "', more than one team may hold at once (quota " + teamQuota.getAsInt() + ")");
        }
        return Optional.empty();
    }

    /**
     * One round over a pool's queue.
     *
     * @param pool      the pool, with its size as the ledger knows it now
     * @param allocated what the pool has granted and not got back
     * @param queue     its waiting requests in FIFO order
     * @param held      what each team holds across pools (only read when a quota is set)
     */
    public Round decide(PoolSpec pool, int allocated, List<Waiting> queue, Map<String, Integer> held) {
        Map<String, Integer> holding = new HashMap<>(held);
        List<Decision> decisions = new ArrayList<>();
        int free = pool.size() - allocated;
        for (Waiting w : queue) {
            Optional<String> never = neverGrantable(pool, w.gpus());
            if (never.isPresent()) {
                decisions.add(new Deny(w.seq(), never.get()));
                continue;
            }
            int teamHolds = holding.getOrDefault(w.team(), 0);
            if (teamQuota.isPresent() && teamHolds + w.gpus() > teamQuota.getAsInt()) {
                continue;
            }
            if (w.gpus() > free) {
                break;
            }
            decisions.add(new Grant(w.seq()));
            free -= w.gpus();
            holding.put(w.team(), teamHolds + w.gpus());
        }
        return new Round(List.copyOf(decisions), Map.copyOf(holding));
    }
}
