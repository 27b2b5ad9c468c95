package dev.mlinfra.devstack;

import dev.mlinfra.devstack.kafka.KafkaBroker;
import dev.mlinfra.devstack.postgres.PostgresServer;
import dev.mlinfra.devstack.postgres.RunAs;
import dev.mlinfra.devstack.s3.S3Server;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;

/**
 * The servers of one devstack on one data directory: PostgreSQL, Kafka and S3, each started,
 * stopped and started again on the same port with the same data. Usable in-process (tests) and
 * behind the {@code run} command.
 */
public final class DevServers implements AutoCloseable {

    /** Every component, in the order the state file and the summary list them. */
    public static final List<String> COMPONENTS = List.of(PostgresServer.NAME, KafkaBroker.NAME, S3Server.NAME);

    private static final Logger LOG = LoggerFactory.getLogger(DevServers.class);

    /**
     * What to start.
     *
     * @param dataDir    where every server keeps its data (kept across runs)
     * @param components a subset of {@link #COMPONENTS}
     * @param databases  PostgreSQL databases to create when missing
     * @param runAs      how PostgreSQL runs (matters when running as root)
     */
    public record Config(Path dataDir, Set<String> components, List<String> databases, RunAs runAs) {

        public Config {
            components = new LinkedHashSet<>(components);
            for (String component : components) {
                if (!COMPONENTS.contains(component)) {
                    throw new IllegalArgumentException("unknown component '" + component + "'; known: " + String.join(",", COMPONENTS));
                }
            }
            databases = List.copyOf(databases);
        }

        public static Config of(Path dataDir, Set<String> components, List<String> databases) {
            return new Config(dataDir, components, databases, RunAs.detect());
        }
    }

    private final Config config;
    private final DataDir dataDir;
    private final Map<String, Server> servers = new LinkedHashMap<>();
    private final Set<String> started = new LinkedHashSet<>();
    private boolean closed;

    /** Locks the data directory; nothing runs until {@link #start()}. */
    public DevServers(Config config) throws IOException {
        this.config = config;
        this.dataDir = DataDir.open(config.dataDir());
        servers.put(PostgresServer.NAME, new PostgresServer(dataDir, config.databases(), config.runAs()));
        servers.put(KafkaBroker.NAME, new KafkaBroker(dataDir));
        servers.put(S3Server.NAME, new S3Server(dataDir));
    }

    /** Starts the configured components in parallel; on any failure stops the others and throws. */
    public void start() throws Exception {
        List<CompletableFuture<Void>> starts = new ArrayList<>();
        for (String component : COMPONENTS) {
            if (config.components().contains(component)) {
                starts.add(inOwnThread("start-" + component, () -> {
                    try {
                        start(component);
                    } catch (Exception e) {
                        throw new CompletionException(e);
                    }
                }));
            }
        }
        try {
            CompletableFuture.allOf(starts.toArray(CompletableFuture[]::new)).join();
        } catch (CompletionException e) {
            close();
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    /** Starts one component (also one not selected at first); returns once it answers. */
    public void start(String component) throws Exception {
        Server server = server(component);
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("the devstack is shutting down");
            }
        }
        server.start();
        synchronized (this) {
            started.add(component);
        }
        LOG.info("started {}", server.describe());
    }

    /** Stops one component, keeping its data and port. */
    public void stop(String component) {
        Server server = server(component);
        server.stop();
        LOG.info("stopped {}", component);
    }

    public boolean isRunning(String component) {
        return server(component).isRunning();
    }

    /** The state-file entries of every component started so far, plus this process's pid. */
    public synchronized Map<String, String> state() {
        Map<String, String> state = new LinkedHashMap<>();
        for (String component : COMPONENTS) {
            if (started.contains(component)) {
                state.putAll(servers.get(component).state());
            }
        }
        state.put("components", String.join(",", started));
        state.put("data-dir", dataDir.root().toString());
        state.put(StateFile.PID, Long.toString(ProcessHandle.current().pid()));
        return state;
    }

    /** One line per started component: what runs where, with which data and log. */
    public synchronized String describe() {
        return started.stream().map(c -> "  " + servers.get(c).describe()).collect(Collectors.joining("\n"));
    }

    public PostgresServer postgres() {
        return (PostgresServer) servers.get(PostgresServer.NAME);
    }

    public KafkaBroker kafka() {
        return (KafkaBroker) servers.get(KafkaBroker.NAME);
    }

    public S3Server s3() {
        return (S3Server) servers.get(S3Server.NAME);
    }

    public Path dataDir() {
        return dataDir.root();
    }

    private Server server(String component) {
        Server server = servers.get(component);
        if (server == null) {
            throw new IllegalArgumentException("unknown component '" + component + "'; known: " + String.join(",", COMPONENTS));
        }
        return server;
    }

    /** Runs a blocking task on a platform thread of its own (the common pool may have a single thread). */
    private static CompletableFuture<Void> inOwnThread(String name, Runnable task) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            try {
                task.run();
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        }, "devstack-" + name);
        thread.setDaemon(true);
        thread.start();
        return done;
    }

    /** Stops every server (in parallel) and releases the data directory. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        List<CompletableFuture<Void>> stops = servers.values().stream()
                .map(server -> inOwnThread("stop-" + server.name(), server::stop))
                .toList();
        try {
            CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new)).join();
        } catch (CompletionException e) {
            LOG.warn("stopping a server failed", e.getCause());
        }
        try {
            dataDir.close();
        } catch (IOException e) {
            LOG.warn("releasing {} failed", dataDir.root(), e);
        }
    }
}
