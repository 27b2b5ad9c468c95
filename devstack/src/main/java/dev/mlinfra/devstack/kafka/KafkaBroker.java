package dev.mlinfra.devstack.kafka;

import dev.mlinfra.devstack.DataDir;
import dev.mlinfra.devstack.Server;
import dev.mlinfra.devstack.StateFile;
import dev.mlinfra.devstack.process.FreePorts;
import dev.mlinfra.devstack.process.Processes;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A single-node Apache Kafka broker in KRaft mode (broker and controller in one process), run as
 * a child JVM ({@link KafkaBrokerMain}) with this JVM's class path. Data in {@code DIR/kafka/data},
 * kept across restarts; a restart reuses the same ports, so clients reconnect by themselves.
 */
public final class KafkaBroker implements Server {

    public static final String NAME = "kafka";

    private static final Logger LOG = LoggerFactory.getLogger(KafkaBroker.class);
    /** System property: {@code false} turns the broker's class-data archive off. */
    public static final String CDS_PROPERTY = "mlinfra.devstack.kafka.class-data-sharing";
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration ARCHIVE_UNUSED_FOR = Duration.ofDays(14);
    private static final List<String> JVM_OPTIONS = List.of(
            "-Xms64m", "-Xmx384m",
            "-XX:+UseSerialGC",
            // a development broker starts much more often than it runs long
            "-XX:TieredStopAtLevel=1",
            "-XX:-UsePerfData",
            "-Djava.awt.headless=true",
            "-Dorg.slf4j.simpleLogger.logFile=System.out",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
            "-Dorg.slf4j.simpleLogger.showDateTime=true",
            "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSZ",
            "-Dorg.slf4j.simpleLogger.log.org.apache.kafka.clients=warn",
            "-Dlog4j2.level=warn");

    private final DataDir dataDir;
    private int port;
    private int controllerPort;
    private Process broker;

    public KafkaBroker(DataDir dataDir) {
        this.dataDir = dataDir;
    }

    @Override
    public String name() {
        return NAME;
    }

    public int port() {
        return port;
    }

    public String bootstrapServers() {
        return FreePorts.LOOPBACK + ":" + port;
    }

    @Override
    public synchronized void start() throws Exception {
        if (isRunning()) {
            return;
        }
        Path home = dataDir.kafka();
        Files.createDirectories(home);
        stopStaleBroker(home);
        if (port == 0) {
            port = FreePorts.preferOrPick(dataDir.lastPort(NAME));
            controllerPort = FreePorts.preferOrPick(dataDir.lastPort(NAME + "-controller"));
            dataDir.rememberPort(NAME, port);
            dataDir.rememberPort(NAME + "-controller", controllerPort);
        }
        Path config = writeConfig(home);
        Path log = dataDir.log(NAME);
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(JVM_OPTIONS);
        classDataArchive().ifPresent(archive -> {
            // classes the broker loaded last time are mapped from this archive instead of parsed again
            command.add("-XX:SharedArchiveFile=" + archive);
            command.add("-XX:+AutoCreateSharedArchive");
            // classes the archive cannot hold (proxies, JFR events) are skipped silently
            command.add("-Xlog:cds*=error");
        });
        command.addAll(List.of("-cp", absoluteClassPath(), KafkaBrokerMain.class.getName(),
                Long.toString(ProcessHandle.current().pid()), config.toString(), clusterId(home)));
        broker = new ProcessBuilder(command)
                .directory(home.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        Files.writeString(home.resolve("broker.pid"), broker.pid() + "\n", StandardCharsets.UTF_8);
        try {
            awaitReady(log);
        } catch (Exception e) {
            stop();
            throw e;
        }
    }

    @Override
    public synchronized void stop() {
        Process process = broker;
        broker = null;
        if (process == null) {
            return;
        }
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(SHUTDOWN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.warn("Kafka did not stop within {}; killing it", SHUTDOWN_TIMEOUT);
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
        try {
            Files.deleteIfExists(dataDir.kafka().resolve("broker.pid"));
        } catch (IOException e) {
            LOG.debug("cannot delete broker.pid", e);
        }
    }

    @Override
    public synchronized boolean isRunning() {
        return broker != null && broker.isAlive();
    }

    @Override
    public Map<String, String> state() {
        Map<String, String> state = new LinkedHashMap<>();
        state.put(StateFile.KAFKA_BOOTSTRAP_SERVERS, bootstrapServers());
        state.put("kafka.data-dir", dataDir.kafka().resolve("data").toString());
        state.put("kafka.log", dataDir.log(NAME).toString());
        return state;
    }

    @Override
    public String describe() {
        return "Kafka (KRaft, single node) on " + bootstrapServers() + " (controller port " + controllerPort + "), data "
                + dataDir.kafka().resolve("data") + ", log " + dataDir.log(NAME);
    }

    /**
     * A class-data archive per class path and JDK in the user's cache directory (the JDK rewrites it
     * when it does not match); none when {@value #CDS_PROPERTY} is {@code false} or there is no cache.
     */
    private static Optional<Path> classDataArchive() {
        if (!Boolean.parseBoolean(System.getProperty(CDS_PROPERTY, "true"))) {
            return Optional.empty();
        }
        try {
            String xdg = System.getenv("XDG_CACHE_HOME");
            Path cache = (xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache"))
                    .resolve("mlinfra").resolve("kafka-cds");
            Files.createDirectories(cache);
            if (!Files.isWritable(cache)) {
                return Optional.empty();
            }
            removeUnused(cache);
            String key = absoluteClassPath() + "|" + System.getProperty("java.home") + "|" + Runtime.version();
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            Path archive = cache.resolve("broker-" + HexFormat.of().formatHex(hash, 0, 8) + ".jsa");
            if (Files.exists(archive)) {
                Files.setLastModifiedTime(archive, FileTime.from(Instant.now()));
            }
            return Optional.of(archive);
        } catch (IOException | NoSuchAlgorithmException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Archives of class paths that have not started a broker for a while (old builds, other checkouts). */
    private static void removeUnused(Path cache) {
        Instant cutoff = Instant.now().minus(ARCHIVE_UNUSED_FOR);
        try (Stream<Path> archives = Files.list(cache)) {
            for (Path archive : archives.filter(p -> p.getFileName().toString().endsWith(".jsa")).toList()) {
                if (Files.getLastModifiedTime(archive).toInstant().isBefore(cutoff)) {
                    Files.deleteIfExists(archive);
                }
            }
        } catch (IOException e) {
            LOG.debug("cannot clean {}", cache, e);
        }
    }

    /** This JVM's class path with absolute entries, since the broker runs in its own directory. */
    private static String absoluteClassPath() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !entry.isEmpty())
                .map(entry -> Path.of(entry).toAbsolutePath().toString())
                .collect(Collectors.joining(File.pathSeparator));
    }

    private Path writeConfig(Path home) throws IOException {
        Properties config = new Properties();
        config.setProperty("process.roles", "broker,controller");
        config.setProperty("node.id", "1");
        config.setProperty("controller.quorum.voters", "1@" + FreePorts.LOOPBACK + ":" + controllerPort);
        config.setProperty("listeners", "PLAINTEXT://" + FreePorts.LOOPBACK + ":" + port
                + ",CONTROLLER://" + FreePorts.LOOPBACK + ":" + controllerPort);
        config.setProperty("advertised.listeners", "PLAINTEXT://" + FreePorts.LOOPBACK + ":" + port);
        config.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        config.setProperty("controller.listener.names", "CONTROLLER");
        config.setProperty("inter.broker.listener.name", "PLAINTEXT");
        config.setProperty("log.dirs", home.resolve("data").toString());
        config.setProperty("auto.create.topics.enable", "true");
        config.setProperty("num.partitions", "1");
        config.setProperty("default.replication.factor", "1");
        config.setProperty("min.insync.replicas", "1");
        // one node: every internal topic has a single replica, so that consumer groups and transactions work
        config.setProperty("offsets.topic.replication.factor", "1");
        config.setProperty("offsets.topic.num.partitions", "10");
        config.setProperty("transaction.state.log.replication.factor", "1");
        config.setProperty("transaction.state.log.min.isr", "1");
        config.setProperty("transaction.state.log.num.partitions", "10");
        config.setProperty("share.coordinator.state.topic.replication.factor", "1");
        config.setProperty("share.coordinator.state.topic.min.isr", "1");
        config.setProperty("group.initial.rebalance.delay.ms", "0");
        config.setProperty("num.network.threads", "2");
        config.setProperty("num.io.threads", "4");
        config.setProperty("num.recovery.threads.per.data.dir", "1");
        config.setProperty("log.cleaner.threads", "1");
        Path file = home.resolve("server.properties");
        try (Writer writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            config.store(writer, "written by the mlinfra devstack at every start");
        }
        return file;
    }

    private String clusterId(Path home) throws IOException {
        Path file = home.resolve("cluster.id");
        if (Files.exists(file)) {
            return Files.readString(file, StandardCharsets.UTF_8).trim();
        }
        String id = Uuid.randomUuid().toString();
        Files.writeString(file, id + "\n", StandardCharsets.UTF_8);
        return id;
    }

    /** A broker of an earlier devstack on this directory that outlived it (the lock proves no devstack owns it). */
    private void stopStaleBroker(Path home) throws IOException {
        Path pidFile = home.resolve("broker.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        long pid;
        try {
            pid = Long.parseLong(Files.readString(pidFile, StandardCharsets.UTF_8).trim());
        } catch (NumberFormatException e) {
            Files.deleteIfExists(pidFile);
            return;
        }
        List<String> commandLine = Processes.commandLine(pid);
        if (Processes.isAlive(pid) && commandLine.contains(KafkaBrokerMain.class.getName())
                && commandLine.stream().anyMatch(arg -> arg.startsWith(home.toString()))) {
            LOG.warn("stopping Kafka (pid {}) left running on {} by an earlier devstack", pid, home);
            Processes.signal(pid, "TERM");
            if (!Processes.awaitExit(pid, SHUTDOWN_TIMEOUT)) {
                Processes.signal(pid, "KILL");
                Processes.awaitExit(pid, Duration.ofSeconds(10));
            }
        }
        Files.deleteIfExists(pidFile);
    }

    private void awaitReady(Path log) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        while (!FreePorts.isListening(port)) {
            checkAlive(log);
            if (System.nanoTime() > deadline) {
                throw new IOException("Kafka did not listen on port " + port + " within " + STARTUP_TIMEOUT + ":\n"
                        + Processes.tail(log, 40));
            }
            Thread.sleep(200);
        }
        Map<String, Object> adminConfig = Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000,
                AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500,
                AdminClientConfig.CLIENT_ID_CONFIG, "mlinfra-devstack-readiness");
        try (Admin admin = Admin.create(adminConfig)) {
            Exception last = null;
            while (System.nanoTime() < deadline) {
                checkAlive(log);
                try {
                    if (!admin.describeCluster(new DescribeClusterOptions().timeoutMs(5000)).nodes()
                            .get(6, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (ExecutionException | TimeoutException e) {
                    last = e;
                }
                Thread.sleep(200);
            }
            throw new IOException("Kafka did not answer describeCluster within " + STARTUP_TIMEOUT
                    + (last == null ? "" : " (" + last.getMessage() + ")") + ":\n" + Processes.tail(log, 40));
        }
    }

    private void checkAlive(Path log) throws IOException {
        if (!broker.isAlive()) {
            throw new IOException("Kafka exited with code " + broker.exitValue() + " while starting:\n" + Processes.tail(log, 40));
        }
    }
}
