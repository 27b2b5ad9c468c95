package dev.mlinfra.testsupport;

import dev.mlinfra.devstack.process.FreePorts;
import dev.mlinfra.devstack.process.OrphanGuard;
import dev.mlinfra.devstack.process.Processes;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A built Quarkus application of this repository ({@code <module>/target/quarkus-app/quarkus-run.jar})
 * run as a real process against the devstack of this JVM, for tests that cross services.
 *
 * <p>It gets a free HTTP port and a free management port, the devstack configuration for its
 * database, the identity public key and the extra configuration given; it logs to
 * {@code target/<module>-process.log} of the calling module and counts as started once
 * {@code GET /q/health/ready} answers 200 on its management port. It is stopped by
 * {@link #stop()}, at JVM exit, or (should the JVM be killed) by a guard process.
 */
public final class ServiceProcess implements AutoCloseable {

    /** The database of each service, as DEVELOPMENT.md names them. */
    public static final Map<String, String> DATABASES = Map.of(
            "gateway", "gateway",
            "dataset-service", "datasets",
            "training-service", "training",
            "registry-service", "registry",
            "inference-service", "inference",
            "infra-service", "infra");

    /** System property: JVM options of service processes (space-separated). */
    public static final String JVM_OPTIONS_PROPERTY = "mlinfra.test.service-jvm-options";

    private static final String DEFAULT_JVM_OPTIONS = "-Xms64m -Xmx512m -XX:+UseSerialGC";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);
    private static final int LOG_TAIL_LINES = 60;
    /** A line the services' log format ({@code date time LEVEL [category] ...}) writes at level ERROR. */
    private static final Pattern ERROR_LINE = Pattern.compile("^\\S+ \\S+ ERROR ");

    private final String module;
    private final String database;
    private final Map<String, String> extraConfig;
    private final int port;
    private final int managementPort;
    private final Path logFile;
    /** The ERROR lines the process logged during its last graceful stop (SIGTERM to a live process). */
    private volatile List<String> errorsWhileStopping = List.of();
    private final Process process;
    private final Process guard;
    private final Runnable cleanup = this::stop;

    private ServiceProcess(String module, String database, Map<String, String> extraConfig, int port, int managementPort,
            Path logFile, Process process, Process guard) {
        this.module = module;
        this.database = database;
        this.extraConfig = extraConfig;
        this.port = port;
        this.managementPort = managementPort;
        this.logFile = logFile;
        this.process = process;
        this.guard = guard;
    }

    /** Starts a service with its own database (see {@link #DATABASES}). */
    public static ServiceProcess start(String module, Map<String, String> extraConfig) {
        String database = DATABASES.get(module);
        if (database == null) {
            throw new IllegalArgumentException("no database known for module '" + module
                    + "'; use start(module, database, extraConfig)");
        }
        return start(module, database, extraConfig);
    }

    /**
     * Starts {@code module}'s built application with {@code database} as its database and returns once
     * it is ready; fails with the end of its log when it exits or is not ready within 90 seconds.
     */
    public static ServiceProcess start(String module, String database, Map<String, String> extraConfig) {
        return start(module, database, extraConfig, FreePorts.pick(), FreePorts.pick());
    }

    /** {@link #start(String, Map)} on a port picked beforehand (one that a peer started earlier was told). */
    public static ServiceProcess startOn(int port, String module, Map<String, String> extraConfig) {
        return start(module, DATABASES.get(module), extraConfig, port, FreePorts.pick());
    }

    /**
     * Stops this service (SIGTERM, as {@link #stop()}; nothing to stop after {@link #kill()}) and
     * starts it again on the same ports with the same configuration, as a restart of its host would;
     * returns the new process once it is ready.
     */
    public ServiceProcess restart() {
        return restart(Map.of());
    }

    /**
     * {@link #restart()} with {@code moreConfig} added to the configuration (peers known only now).
     * Fails, once the new process is ready, when the old one logged an error while it stopped
     * gracefully (here or in a {@link #stop()} before): a stop the service was asked for is no error,
     * and its log must not say so.
     */
    public ServiceProcess restart(Map<String, String> moreConfig) {
        stop();
        Map<String, String> config = new java.util.HashMap<>(extraConfig);
        config.putAll(moreConfig);
        ServiceProcess restarted = start(module, database, config, port, managementPort);
        if (!errorsWhileStopping.isEmpty()) {
            throw new IllegalStateException(module + " logged " + errorsWhileStopping.size() + " error(s) while it stopped gracefully:\n"
                    + String.join("\n", errorsWhileStopping));
        }
        return restarted;
    }

    /** The ERROR lines of the log after its first {@code offset} bytes. */
    private List<String> errorsLoggedSince(long offset) {
        try (var log = new RandomAccessFile(logFile.toFile(), "r")) {
            byte[] tail = new byte[(int) Math.max(0, log.length() - offset)];
            log.seek(offset);
            log.readFully(tail);
            return new String(tail, StandardCharsets.UTF_8).lines().filter(line -> ERROR_LINE.matcher(line).find()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + logFile, e);
        }
    }

    private static ServiceProcess start(String module, String database, Map<String, String> extraConfig, int port,
            int managementPort) {
        Path jar = Repository.root().resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(module + " is not built: " + jar + " is missing. Build it first with"
                    + " './mvnw -pl " + module + " -am package -DskipTests'");
        }
        Map<String, String> config = new LinkedHashMap<>(Devstack.serviceConfig(database));
        // services only verify identity tokens; the gateway gets the private key through extraConfig
        config.remove(Devstack.IDENTITY_PRIVATE_KEY_PROPERTY);
        config.put("quarkus.http.host", FreePorts.LOOPBACK);
        config.put("quarkus.http.port", Integer.toString(port));
        config.put("quarkus.management.host", FreePorts.LOOPBACK);
        config.put("quarkus.management.port", Integer.toString(managementPort));
        // as in @QuarkusTest: every entity is checked against the migrated tables at start
        config.put("quarkus.hibernate-orm.schema-management.strategy", "validate");
        config.putAll(extraConfig);

        Path target = Repository.callingModule().resolve("target");
        Path workDir = target.resolve(module + "-process");
        Path logFile = target.resolve(module + "-process.log");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Arrays.stream(System.getProperty(JVM_OPTIONS_PROPERTY, DEFAULT_JVM_OPTIONS).trim().split("\\s+"))
                .filter(option -> !option.isEmpty())
                .forEach(command::add);
        command.add("-Djava.io.tmpdir=" + workDir.resolve("tmp"));
        config.forEach((key, value) -> {
            command.add("-D" + key + "=" + value);
            // a %prod value in the application's own file must not win over the devstack's
            if (!key.startsWith("%")) {
                command.add("-D%prod." + key + "=" + value);
            }
        });
        command.addAll(List.of("-jar", jar.toString()));
        try {
            Files.createDirectories(workDir.resolve("tmp"));
            Files.writeString(logFile, "==== " + Instant.now() + " starting " + module + " on port " + port + "\n",
                    StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            Process process = new ProcessBuilder(command)
                    .directory(workDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            ServiceProcess service = new ServiceProcess(module, database, Map.copyOf(extraConfig), port, managementPort,
                    logFile, process,
                    OrphanGuard.guard(process.pid(), "TERM"));
            JvmShared.call("atExit", service.cleanup);
            service.awaitReady();
            return service;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + module, e);
        }
    }

    /** {@code http://127.0.0.1:PORT}. */
    public String url() {
        return "http://" + FreePorts.LOOPBACK + ":" + port;
    }

    public int port() {
        return port;
    }

    /** {@code http://127.0.0.1:PORT} of its management interface ({@code /q/health}, {@code /q/metrics}, {@code /q/info}). */
    public String managementUrl() {
        return "http://" + FreePorts.LOOPBACK + ":" + managementPort;
    }

    public String module() {
        return module;
    }

    public Path logFile() {
        return logFile;
    }

    public boolean isRunning() {
        return process.isAlive();
    }

    /** SIGTERM (Quarkus shuts down gracefully), then SIGKILL after 20 seconds. */
    public void stop() {
        JvmShared.call("cancelAtExit", cleanup);
        if (process.isAlive()) {
            long logged = logFile.toFile().length();
            process.destroy();
            try {
                if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
            errorsWhileStopping = errorsLoggedSince(logged);
        }
        guard.destroy();
    }

    /** SIGKILL, as {@code kill -9} or a crash: the service gets no chance to finish anything. */
    public void kill() {
        JvmShared.call("cancelAtExit", cleanup);
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        guard.destroy();
    }

    @Override
    public void close() {
        stop();
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new IllegalStateException(module + " exited with code " + process.exitValue() + " while starting; "
                            + logFile + " ends with:\n" + Processes.tail(logFile, LOG_TAIL_LINES));
                }
                if (ready(http, managementPort)) {
                    return;
                }
                Thread.sleep(250);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop();
            throw new IllegalStateException("interrupted while " + module + " was starting", e);
        }
        stop();
        throw new IllegalStateException(module + " was not ready (GET /q/health/ready == 200) within " + READY_TIMEOUT + "; "
                + logFile + " ends with:\n" + Processes.tail(logFile, LOG_TAIL_LINES));
    }

    /** Health is on the management port. */
    private static boolean ready(HttpClient http, int port) throws InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + FreePorts.LOOPBACK + ":" + port + "/q/health/ready"))
                .timeout(Duration.ofSeconds(5))
                .GET()
                .build();
        try {
            return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        }
    }
}
