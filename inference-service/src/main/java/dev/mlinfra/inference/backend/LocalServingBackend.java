package dev.mlinfra.inference.backend;

import dev.mlinfra.commons.storage.S3Config;
import dev.mlinfra.inference.config.InferenceConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import org.jboss.logging.Logger;

/**
 * The embedded backend: one model-server process per base model type on this machine, started
 * when the first model of that type is deployed, with this service's own JDK. Each server has a
 * log and a state file ({@code model-server-<type>.properties}: pid, port, state) under
 * {@code mlinfra.inference.local.work-dir}, which {@code ./mlinfra status} lists. A server that
 * ends is started again after a back-off that doubles with each crash in a row; once it answers
 * its health check, {@link #onReady} listeners load its adapters again. A server whose port another
 * process took before the server could bind it is stopped and started on another. Servers stop with the
 * service. A service that was killed leaves its servers running, adapters loaded: when it starts
 * again it takes over those started as it would start them (same jar build, options, object store)
 * and serves on with them, as a cluster's model servers outlive a restart of the service; any other
 * is stopped.
 */
@ApplicationScoped
@Identifier(LocalServingBackend.NAME)
public class LocalServingBackend implements ServingBackend {

    public static final String NAME = "local";
    private static final Logger LOG = Logger.getLogger(LocalServingBackend.class);
    /** A server that ran this long before it ended counts as a first crash again. */
    private static final Duration STABLE = Duration.ofMinutes(1);
    private static final Duration HEALTH_EVERY = Duration.ofMillis(250);
    /** The header of model-server's health answer that names its process. */
    static final String PROCESS_ID_HEADER = "x-mlinfra-pid";
    /** The command-line mark of how a server was started ({@link #startedAs}). */
    private static final String STARTED_AS = "-Dmlinfra.serving.started-as=";

    private final InferenceConfig.Local config;
    private final S3Config s3;
    private final Path workDir;
    private final Map<String, Server> servers = new ConcurrentHashMap<>();
    private final List<BiConsumer<String, URI>> listeners = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService supervisor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "model-server-supervisor");
        t.setDaemon(true);
        return t;
    });
    private final HttpClient health = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private volatile boolean stopping;

    public LocalServingBackend(InferenceConfig config, S3Config s3) {
        this.config = config.local();
        this.s3 = s3;
        this.workDir = Path.of(this.config.workDir()).toAbsolutePath();
        takeOverLeftovers();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void onReady(BiConsumer<String, URI> listener) {
        listeners.add(listener);
        // a server taken over from an earlier run may be ready before anyone listens
        servers.values().stream().filter(s -> s.ready).forEach(s -> tell(listener, s));
    }

    @Override
    public Optional<URI> server(String modelType) {
        Server s = servers.computeIfAbsent(modelType, type -> {
            Server created = new Server(type);
            supervisor.execute(() -> start(created));
            return created;
        });
        return s.ready ? Optional.of(s.url()) : Optional.empty();
    }

    @Override
    public List<ServerStatus> servers() {
        return servers.values().stream().sorted(Comparator.comparing(s -> s.modelType))
                .map(s -> new ServerStatus(s.modelType, s.port == 0 ? null : s.url().toString(), s.state(),
                        s.process == null ? null : s.process.pid(), s.restarts, s.lastExit))
                .toList();
    }

    private void start(Server s) {
        if (stopping) {
            return;
        }
        Path jar = config.modelServerJar().map(Path::of).orElse(null);
        if (jar == null || !Files.isRegularFile(jar)) {
            s.lastExit = jar == null
                    ? "the local serving backend has no server: set mlinfra.inference.local.model-server-jar to model-server's quarkus-run.jar"
                    : "the model server " + jar + " is not built; build it with ./mvnw -pl llm-engine,model-server install -DskipTests";
            LOG.errorf("Cannot start the %s model server: %s", s.modelType, s.lastExit);
            scheduleRestart(s);
            return;
        }
        try {
            Files.createDirectories(workDir);
            s.port = freePort();
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            Arrays.stream(config.jvmOptions().trim().split("\\s+")).filter(o -> !o.isEmpty()).forEach(command::add);
            command.addAll(List.of(
                    "-Dquarkus.http.host=127.0.0.1",
                    "-Dquarkus.http.port=" + s.port,
                    "-Dmlinfra.model-server.base-model=" + s.modelType,
                    "-Dmlinfra.model-server.max-loras=" + config.maxLoras(),
                    "-Dmlinfra.model-server.data-dir=" + Path.of(config.engineDataDir()).toAbsolutePath(),
                    "-Dmlinfra.serving.work-dir=" + workDir,
                    STARTED_AS + startedAs(jar),
                    "-jar", jar.toAbsolutePath().toString()));
            // the object store's credentials go by environment, not on a command line others can read
            Path log = workDir.resolve("model-server-" + s.modelType + ".log");
            Files.writeString(log, "==== " + Instant.now() + " starting the " + s.modelType + " model server on port "
                    + s.port + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            ProcessBuilder builder = new ProcessBuilder(command);
            builder.environment().put("MLINFRA_S3_ENDPOINT", s3.endpoint());
            builder.environment().put("MLINFRA_S3_ACCESS_KEY", s3.accessKey());
            builder.environment().put("MLINFRA_S3_SECRET_KEY", s3.secretKey());
            builder.environment().put("MLINFRA_S3_REGION", s3.region());
            Process child = builder.directory(workDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            ProcessHandle process = child.toHandle();
            s.process = process;
            s.startedAt = Instant.now();
            s.ready = false;
            writeState(s);
            LOG.infof("Started the %s model server (pid %d) on port %d, log %s", s.modelType, process.pid(), s.port, log);
            child.onExit().thenAccept(p -> supervisor.execute(() -> ended(s, process, p.exitValue())));
            supervisor.schedule(() -> awaitHealthy(s, process), HEALTH_EVERY.toMillis(), TimeUnit.MILLISECONDS);
        } catch (IOException e) {
            s.lastExit = "could not be started: " + e.getMessage();
            LOG.errorf("The %s model server %s", s.modelType, s.lastExit);
            scheduleRestart(s);
        }
    }

    private void awaitHealthy(Server s, ProcessHandle process) {
        if (stopping || !process.equals(s.process) || !process.isAlive()) {
            return;
        }
        Probe probe = probe(health, s.url(), process.pid());
        if (probe == Probe.READY) {
            s.ready = true;
            s.readyAt = Instant.now();
            writeState(s);
            LOG.infof("The %s model server (pid %d) is ready after %d ms", s.modelType, process.pid(),
                    Duration.between(s.startedAt, s.readyAt).toMillis());
            listeners.forEach(l -> tell(l, s));
            return;
        }
        if (probe == Probe.OTHER) {
            // Its port was taken between the pick and its bind: it cannot serve there, and what answers is not it.
            LOG.warnf("Port %d, picked for the %s model server (pid %d), answers for another process; stopping the server"
                    + " to start it on another port", s.port, s.modelType, process.pid());
            s.stoppedBecause = "port " + s.port + " was taken by another process";
            process.destroyForcibly();
            return;
        }
        if (Duration.between(s.startedAt, Instant.now()).compareTo(config.startTimeout()) > 0) {
            LOG.errorf("The %s model server (pid %d) did not become healthy within %ss; stopping it", s.modelType,
                    process.pid(), config.startTimeout().toSeconds());
            s.stoppedBecause = "not healthy within " + config.startTimeout().toSeconds() + "s";
            process.destroyForcibly();
            return;
        }
        supervisor.schedule(() -> awaitHealthy(s, process), HEALTH_EVERY.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** What answers the health check on a server's port. */
    enum Probe {
        /** The server of the process started there, ready to serve. */
        READY,
        /** Nothing yet, or that server, not ready yet. */
        NOT_YET,
        /** Another process. */
        OTHER
    }

    /**
     * Asks {@code /health} at {@code server} whether the model server of process {@code pid} is
     * ready there. A model server names its process in the header {@value #PROCESS_ID_HEADER}: the
     * port was free when it was picked, but another process may have bound it before the server did.
     */
    static Probe probe(HttpClient client, URI server, long pid) {
        try {
            HttpResponse<Void> r = client.send(HttpRequest.newBuilder(server.resolve("/health")).timeout(Duration.ofSeconds(2))
                    .GET().build(), HttpResponse.BodyHandlers.discarding());
            if (!r.headers().firstValue(PROCESS_ID_HEADER).equals(Optional.of(Long.toString(pid)))) {
                return Probe.OTHER;
            }
            return r.statusCode() == 200 ? Probe.READY : Probe.NOT_YET;
        } catch (IOException e) {
            return Probe.NOT_YET;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Probe.NOT_YET;
        }
    }

    private void tell(BiConsumer<String, URI> listener, Server s) {
        try {
            listener.accept(s.modelType, s.url());
        } catch (RuntimeException e) {
            LOG.errorf(e, "A listener failed on the ready %s model server", s.modelType);
        }
    }

    /** The server's process ended; {@code code} is its exit code, null for one taken over (not this JVM's child). */
    private void ended(Server s, ProcessHandle process, Integer code) {
        if (!process.equals(s.process)) {
            return;
        }
        s.ready = false;
        if (stopping) {
            return;
        }
        String why = s.stoppedBecause;
        s.stoppedBecause = null;
        s.lastExit = why != null ? "stopped: " + why
                : code == null ? "ended (taken over from an earlier run of this service, so its exit code is unknown)"
                : code > 128 ? "killed by signal " + (code - 128) : "exited with code " + code;
        LOG.warnf("The %s model server (pid %d) %s; see %s", s.modelType, process.pid(), s.lastExit,
                workDir.resolve("model-server-" + s.modelType + ".log"));
        if (s.startedAt != null && Duration.between(s.startedAt, Instant.now()).compareTo(STABLE) > 0) {
            s.crashesInARow = 0;
        }
        scheduleRestart(s);
    }

    private void scheduleRestart(Server s) {
        if (stopping) {
            return;
        }
        long factor = 1L << Math.min(s.crashesInARow, 16);
        Duration wait = config.restartBackoff().multipliedBy(factor);
        if (wait.compareTo(config.maxRestartBackoff()) > 0) {
            wait = config.maxRestartBackoff();
        }
        s.crashesInARow++;
        s.restarts++;
        s.restartingAt = Instant.now().plus(wait);
        writeState(s);
        LOG.infof("Starting the %s model server again in %d ms (restart %d)", s.modelType, wait.toMillis(), s.restarts);
        supervisor.schedule(() -> start(s), wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    void stop(@Observes ShutdownEvent event) {
        stopping = true;
        supervisor.shutdownNow();
        for (Server s : servers.values()) {
            ProcessHandle p = s.process;
            if (p != null && p.isAlive()) {
                LOG.infof("Stopping the %s model server (pid %d)", s.modelType, p.pid());
                p.destroy();
            }
        }
        for (Server s : servers.values()) {
            ProcessHandle p = s.process;
            if (p != null) {
                try {
                    p.onExit().get(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    p.destroyForcibly();
                } catch (ExecutionException | TimeoutException e) {
                    p.destroyForcibly();
                }
            }
            deleteState(s.modelType);
        }
    }

    /**
     * Servers of an earlier run of this service that outlived it (it was killed). One started as
     * this run would start it is taken over, adapters and all: supervised from here on, ready once it
     * answers its health check (whereupon the listeners load the adapters it should have, which it
     * mostly has). Any other (another build of the server, other options or object store, a second
     * one of a type) is nobody's now, and is stopped.
     */
    private void takeOverLeftovers() {
        String marker = "-Dmlinfra.serving.work-dir=" + workDir;
        String startedAs = config.modelServerJar().map(Path::of).filter(Files::isRegularFile)
                .map(jar -> STARTED_AS + startedAs(jar)).orElse(null);
        ProcessHandle.allProcesses().forEach(p -> {
            List<String> args = p.info().arguments().map(Arrays::asList).orElse(List.of());
            if (!args.contains(marker)) {
                return;
            }
            String type = valueOf(args, "-Dmlinfra.model-server.base-model=");
            String port = valueOf(args, "-Dquarkus.http.port=");
            if (startedAs == null || !args.contains(startedAs) || type == null || port == null || servers.containsKey(type)) {
                LOG.warnf("Stopping model server pid %d left by an earlier run: it is not started as this run would start it",
                        p.pid());
                p.destroyForcibly();
                return;
            }
            Server s = new Server(type);
            s.port = Integer.parseInt(port);
            s.process = p;
            // from now on: it gets the start timeout to answer, as a server started now would
            s.startedAt = Instant.now();
            servers.put(type, s);
            writeState(s);
            LOG.infof("Taking over the %s model server (pid %d, port %d) left running by an earlier run, with its adapters",
                    type, p.pid(), s.port);
            p.onExit().thenAccept(h -> supervisor.execute(() -> ended(s, p, null)));
            supervisor.execute(() -> awaitHealthy(s, p));
        });
    }

    private static String valueOf(List<String> args, String prefix) {
        return args.stream().filter(a -> a.startsWith(prefix)).map(a -> a.substring(prefix.length())).findFirst().orElse(null);
    }

    /**
     * What a server is started as, on its command line: a digest of the build of its jar, its
     * options and its object store. A server started otherwise is not taken over.
     */
    private String startedAs(Path jar) {
        String what;
        try {
            what = String.join("\n", jar.toAbsolutePath().toString(), Files.getLastModifiedTime(jar).toString(),
                    config.jvmOptions(), Integer.toString(config.maxLoras()),
                    Path.of(config.engineDataDir()).toAbsolutePath().toString(), s3.endpoint(), s3.accessKey(), s3.region());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(what.getBytes(StandardCharsets.UTF_8)), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void writeState(Server s) {
        try {
            Files.createDirectories(workDir);
            Path file = workDir.resolve("model-server-" + s.modelType + ".properties");
            Path tmp = workDir.resolve("model-server-" + s.modelType + ".properties.tmp");
            Files.writeString(tmp, "model_type=" + s.modelType + "\npid=" + (s.process == null ? "" : s.process.pid())
                    + "\nport=" + s.port + "\nstate=" + s.state() + "\nrestarts=" + s.restarts + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.debugf("Could not write the state of the %s model server: %s", s.modelType, e.getMessage());
        }
    }

    private void deleteState(String modelType) {
        try {
            Files.deleteIfExists(workDir.resolve("model-server-" + modelType + ".properties"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    /** What the supervisor knows of one server; written by the supervisor thread, read by anyone. */
    private static final class Server {
        final String modelType;
        volatile int port;
        volatile ProcessHandle process;
        volatile boolean ready;
        volatile Instant startedAt;
        volatile Instant readyAt;
        volatile Instant restartingAt;
        volatile int restarts;
        volatile int crashesInARow;
        volatile String lastExit;
        /** Why the supervisor stopped the server, if it did: its last exit, rather than the signal. */
        volatile String stoppedBecause;

        Server(String modelType) {
            this.modelType = modelType;
        }

        URI url() {
            return URI.create("http://127.0.0.1:" + port);
        }

        String state() {
            if (ready) {
                return "ready";
            }
            ProcessHandle p = process;
            return p != null && p.isAlive() ? "starting" : restarts > 0 ? "restarting" : "starting";
        }
    }
}
