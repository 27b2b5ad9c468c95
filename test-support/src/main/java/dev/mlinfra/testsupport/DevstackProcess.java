package dev.mlinfra.testsupport;

import dev.mlinfra.devstack.IdentityKeys;
import dev.mlinfra.devstack.StateFile;
import dev.mlinfra.devstack.process.Processes;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The {@code devstack run} child process of this JVM and its control channel.
 *
 * <p>Only its static methods are used, always on the copy of this class that the JVM's system class
 * loader holds (see {@link JvmShared}), with JDK types only: Quarkus gives every test profile its
 * own class loader, and the devstack must still be one per JVM.
 */
final class DevstackProcess {

    /** Entries {@link #view()} adds to the state file's. */
    static final String HOME = "testsupport.home";
    static final String LOG = "testsupport.log";
    static final String DATA_DIR = "testsupport.data-dir";
    static final String PUBLIC_KEY = "testsupport.identity.public-key";
    static final String PRIVATE_KEY = "testsupport.identity.private-key";
    static final String COMPONENTS = "testsupport.components";

    static final Set<String> ALL_COMPONENTS = Set.of("postgres", "kafka", "s3");

    private static final String DEVSTACK_MAIN = "dev.mlinfra.devstack.Main";
    private static final Pattern DATABASE_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(180);
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(150);
    private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(40);
    private static final String READY = "devstack ready";

    private static DevstackProcess instance;

    private final Path home;
    private final Path stateFile;
    private final Path logFile;
    private final Process process;
    private final PrintWriter commands;
    private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
    private final IdentityKeys identityKeys;
    private final Set<String> components;
    private volatile Map<String, String> state = Map.of();

    private DevstackProcess(Path home, Process process, IdentityKeys identityKeys, Set<String> components) {
        this.home = home;
        this.stateFile = home.resolve("state.properties");
        this.logFile = home.resolve("devstack.log");
        this.process = process;
        this.commands = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        this.identityKeys = identityKeys;
        this.components = new LinkedHashSet<>(components);
    }

    // ---------------------------------------------------------------- entry points (JDK types only)

    /**
     * Makes sure the devstack runs with at least these components (comma-separated; a running one
     * starts what it lacks) and returns {@link #view()}.
     */
    static synchronized Map<String, String> ensure(String components) {
        Set<String> wanted = parseComponents(components);
        for (String component : wanted) {
            if (!ALL_COMPONENTS.contains(component)) {
                throw new IllegalArgumentException("unknown devstack component '" + component + "'; known: " + ALL_COMPONENTS);
            }
        }
        if (instance == null || !instance.process.isAlive()) {
            instance = launch(wanted);
        } else {
            for (String component : wanted) {
                if (!instance.components.contains(component)) {
                    instance.send("start " + component);
                    instance.components.add(component);
                }
            }
        }
        return instance.snapshot();
    }

    /** The running devstack as it is (a new one with every component if none runs). */
    static synchronized Map<String, String> view() {
        return instance != null && instance.process.isAlive() ? instance.snapshot() : ensure(String.join(",", ALL_COMPONENTS));
    }

    static synchronized boolean running() {
        return instance != null && instance.process.isAlive();
    }

    /** Sends one control command and returns the answer ({@code ok...}); throws on {@code error: ...}. */
    static String control(String command) {
        DevstackProcess devstack;
        synchronized (DevstackProcess.class) {
            view();
            devstack = instance;
        }
        return devstack.send(command);
    }

    /** A connection to one database as the devstack's user (through the driver directly: no DriverManager lookup). */
    static Connection connect(String database) throws SQLException {
        Map<String, String> view = view();
        String host = require(view, StateFile.POSTGRES_HOST);
        String port = require(view, StateFile.POSTGRES_PORT);
        Properties properties = new Properties();
        properties.setProperty("user", require(view, StateFile.POSTGRES_USERNAME));
        properties.setProperty("password", require(view, StateFile.POSTGRES_PASSWORD));
        return new org.postgresql.Driver().connect("jdbc:postgresql://" + host + ":" + port + "/" + database, properties);
    }

    /** Creates the database unless it exists. */
    static synchronized void createDatabase(String database) {
        if (!DATABASE_NAME.matcher(database).matches()) {
            throw new IllegalArgumentException("database names are lower-case letters, digits and _ (max 63): " + database);
        }
        try (Connection connection = connect("postgres");
             PreparedStatement exists = connection.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
            exists.setString(1, database);
            try (ResultSet rows = exists.executeQuery()) {
                if (rows.next()) {
                    return;
                }
            }
            try (Statement create = connection.createStatement()) {
                create.execute("CREATE DATABASE \"" + database + "\"");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + database + " in the devstack: " + e.getMessage(), e);
        }
    }

    /** Runs {@code task} at JVM exit, before the devstack stops (last registered, first run). */
    static void atExit(Runnable task) {
        Cleanup.register(task);
    }

    static void cancelAtExit(Runnable task) {
        Cleanup.unregister(task);
    }

    /** The value of a state entry; a clear message when the component it belongs to does not run. */
    static String require(Map<String, String> view, String key) {
        String value = view.get(key);
        if (value == null) {
            throw new IllegalStateException("the devstack runs " + view.getOrDefault(COMPONENTS, "nothing") + " and has no '"
                    + key + "'; start the component it belongs to (Devstack.start(Set.of(...)) or the 'components' init arg"
                    + " of DevstackResource)");
        }
        return value;
    }

    static Set<String> parseComponents(String value) {
        if (value == null || value.isBlank()) {
            return ALL_COMPONENTS;
        }
        Set<String> components = new LinkedHashSet<>();
        Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).forEach(components::add);
        return components;
    }

    // ---------------------------------------------------------------- the process

    private Map<String, String> snapshot() {
        Map<String, String> view = new LinkedHashMap<>(state);
        view.put(HOME, home.toString());
        view.put(LOG, logFile.toString());
        view.put(DATA_DIR, home.resolve("data").toString());
        view.put(PUBLIC_KEY, identityKeys.publicKey().toString());
        view.put(PRIVATE_KEY, identityKeys.privateKey().toString());
        view.put(COMPONENTS, String.join(",", components));
        return Map.copyOf(view);
    }

    private synchronized String send(String command) {
        if (!process.isAlive()) {
            throw new IllegalStateException("the devstack has exited; " + logFile + " ends with:\n" + Processes.tail(logFile, 30));
        }
        answers.clear();
        commands.println(command);
        String answer;
        try {
            answer = answers.poll(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for '" + command + "'", e);
        }
        if (answer == null) {
            throw new IllegalStateException("no answer to '" + command + "' within " + COMMAND_TIMEOUT + "; see " + logFile);
        }
        if (!answer.startsWith("ok")) {
            throw new IllegalStateException("devstack: '" + command + "' failed: " + answer + "\n" + Processes.tail(logFile, 30));
        }
        reloadState();
        return answer;
    }

    private static DevstackProcess launch(Set<String> components) {
        Path root = Repository.root();
        Path jar = root.resolve("devstack/target/devstack.jar");
        Path lib = root.resolve("devstack/target/lib");
        if (!Files.isRegularFile(jar) || !Files.isDirectory(lib)) {
            throw new IllegalStateException("the devstack is not built: " + jar + " (and its lib/) is missing. Build it first with"
                    + " './mvnw -pl devstack -am install -DskipTests' (a full './mvnw install' builds it before the modules that use it)");
        }
        try {
            // readable by others: when tests run as root without user namespaces, PostgreSQL runs as 'nobody'
            Path home = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath(), "mlinfra-devstack-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            IdentityKeys keys = IdentityKeys.ensure(home.resolve("identity"));
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(List.of("-Xms64m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
            command.addAll(List.of("-cp", jar + File.pathSeparator + lib.resolve("*"), DEVSTACK_MAIN,
                    "run", "--data-dir", home.resolve("data").toString(),
                    "--state-file", home.resolve("state.properties").toString(),
                    "--components", String.join(",", components),
                    "--exit-with-parent", "--control-stdin"));
            Process process = new ProcessBuilder(command)
                    .directory(home.toFile())
                    .redirectError(ProcessBuilder.Redirect.appendTo(home.resolve("devstack.log").toFile()))
                    .start();
            DevstackProcess devstack = new DevstackProcess(home, process, keys, components);
            Cleanup.registerLast(devstack::shutdown);
            devstack.readAnswers();
            devstack.awaitReady();
            return devstack;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the devstack", e);
        }
    }

    private void readAnswers() {
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Thread reader = new Thread(() -> {
            try {
                String line;
                while ((line = out.readLine()) != null) {
                    answers.add(line);
                }
            } catch (IOException e) {
                // the devstack has exited
            }
        }, "devstack-output");
        reader.setDaemon(true);
        reader.start();
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        try {
            while (System.nanoTime() < deadline) {
                String line = answers.poll(200, TimeUnit.MILLISECONDS);
                if (READY.equals(line)) {
                    reloadState();
                    return;
                }
                if (line == null && !process.isAlive()) {
                    throw new IllegalStateException("the devstack exited with code " + process.exitValue()
                            + " while starting; " + logFile + " ends with:\n" + Processes.tail(logFile, 40));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the devstack was starting", e);
        }
        shutdown();
        throw new IllegalStateException("the devstack was not ready within " + STARTUP_TIMEOUT + "; " + logFile
                + " ends with:\n" + Processes.tail(logFile, 40));
    }

    private void reloadState() {
        try {
            state = StateFile.read(stateFile);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the devstack state " + stateFile, e);
        }
    }

    /** SIGTERM (the devstack stops every server), then SIGKILL; the data directory goes, the log stays. */
    private void shutdown() {
        commands.close();
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(SHUTDOWN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
        deleteTree(home.resolve("data"));
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> tree = Files.walk(root)) {
            for (Path path : tree.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException | UncheckedIOException e) {
            // a leftover under target/tmp is harmless
        }
    }
}
