package dev.mlinfra.testsupport;

import dev.mlinfra.devstack.StateFile;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The devstack of this test JVM, for tests: one {@code devstack run} child process (PostgreSQL,
 * Kafka, S3 on free loopback ports) started on first use (by {@link DevstackResource} or by any
 * method here), shared by every test class, stopped when the JVM exits and, should the JVM be
 * killed, by itself ({@code --exit-with-parent}).
 *
 * <p>Its data lives in a fresh directory under {@code java.io.tmpdir} (deleted at exit); its log
 * is {@link #logFile()}, the servers' logs are under {@code dataDir()/logs}. Stopping and starting
 * a server ({@link #stopKafka()}, {@link #startKafka()}) keeps its port and data, so a test can
 * prove that nothing is lost while it is down.
 */
public final class Devstack {

    /** Every component a devstack can run. */
    public static final Set<String> ALL_COMPONENTS = DevstackProcess.ALL_COMPONENTS;

    private Devstack() {
    }

    /**
     * Makes sure the devstack runs with at least these components (a running one starts what it
     * lacks); every other method here starts one with {@link #ALL_COMPONENTS} when none runs yet.
     */
    public static void start(Set<String> components) {
        JvmShared.call("ensure", String.join(",", components));
    }

    /** True once a devstack runs in this JVM (starts nothing). */
    public static boolean isRunning() {
        return JvmShared.<Boolean>call("running");
    }

    // PostgreSQL

    public static String postgresHost() {
        return get(StateFile.POSTGRES_HOST);
    }

    public static int postgresPort() {
        return Integer.parseInt(get(StateFile.POSTGRES_PORT));
    }

    public static String postgresUsername() {
        return get(StateFile.POSTGRES_USERNAME);
    }

    public static String postgresPassword() {
        return get(StateFile.POSTGRES_PASSWORD);
    }

    /** {@code jdbc:postgresql://127.0.0.1:PORT/DATABASE}. */
    public static String jdbcUrl(String database) {
        return "jdbc:postgresql://" + postgresHost() + ":" + postgresPort() + "/" + database;
    }

    /** {@code postgresql://127.0.0.1:PORT/DATABASE}, the form of {@code quarkus.datasource.reactive.url}. */
    public static String reactiveUrl(String database) {
        return "postgresql://" + postgresHost() + ":" + postgresPort() + "/" + database;
    }

    /** A JDBC connection to one database as the devstack's user. */
    public static Connection connect(String database) throws SQLException {
        return JvmShared.callSql("connect", database);
    }

    /** Creates the database unless it exists. */
    public static void createDatabase(String database) {
        JvmShared.call("createDatabase", database);
    }

    /** Stops PostgreSQL (fast shutdown: sessions end); port and data are kept for {@link #startPostgres()}. */
    public static void stopPostgres() {
        control("stop postgres");
    }

    public static void startPostgres() {
        control("start postgres");
    }

    /**
     * Freezes PostgreSQL (SIGSTOP to the server and its backends): connections stay open and nothing is
     * answered, as a server that hangs; {@link #thawPostgres()} lets it go on where it stood.
     */
    public static void freezePostgres() {
        signalPostgres("STOP");
    }

    public static void thawPostgres() {
        signalPostgres("CONT");
    }

    private static void signalPostgres(String signal) {
        String pgdata = dataDir().toString();
        List<String> command = new ArrayList<>(List.of("kill", "-" + signal));
        ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains("postgres") && c.contains(pgdata)).orElse(false))
                .flatMap(p -> Stream.concat(Stream.of(p), p.descendants()))
                .forEach(p -> command.add(Long.toString(p.pid())));
        if (command.size() == 2) {
            throw new IllegalStateException("no PostgreSQL process with " + pgdata + " on its command line");
        }
        try {
            int exit = new ProcessBuilder(command).inheritIO().start().waitFor();
            if (exit != 0) {
                throw new IllegalStateException(String.join(" ", command) + " exited with " + exit);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    // Kafka

    /** {@code 127.0.0.1:PORT}. */
    public static String kafkaBootstrapServers() {
        return get(StateFile.KAFKA_BOOTSTRAP_SERVERS);
    }

    /** Stops the broker; its port and data are kept for {@link #startKafka()}. */
    public static void stopKafka() {
        control("stop kafka");
    }

    /** Starts the broker again on the same port with the same data; returns once it answers. */
    public static void startKafka() {
        control("start kafka");
    }

    // S3

    /** {@code http://127.0.0.1:PORT} (path-style addressing). */
    public static String s3Endpoint() {
        return get(StateFile.S3_ENDPOINT);
    }

    public static String s3AccessKey() {
        return get(StateFile.S3_ACCESS_KEY);
    }

    public static String s3SecretKey() {
        return get(StateFile.S3_SECRET_KEY);
    }

    public static String s3Region() {
        return get(StateFile.S3_REGION);
    }

    public static void stopS3() {
        control("stop s3");
    }

    public static void startS3() {
        control("start s3");
    }

    // identity keys, files, configuration

    /** Key id ({@code kid}) of the devstack's identity key in the gateway's key set. */
    public static final String IDENTITY_KEY_ID = "devstack";
    /** The configuration key of the devstack's private identity key: only the gateway gets it. */
    public static final String IDENTITY_PRIVATE_KEY_PROPERTY = "mlinfra.identity.keys." + IDENTITY_KEY_ID + ".private-key-location";

    /** PEM public key that verifies identity tokens (generated once per JVM). */
    public static Path identityPublicKey() {
        return Path.of(get(DevstackProcess.PUBLIC_KEY));
    }

    /** PKCS#8 PEM private key that signs identity tokens (generated once per JVM). */
    public static Path identityPrivateKey() {
        return Path.of(get(DevstackProcess.PRIVATE_KEY));
    }

    /** Where the servers keep their data ({@code logs/} holds their logs). */
    public static Path dataDir() {
        return Path.of(get(DevstackProcess.DATA_DIR));
    }

    /** The devstack's own log. */
    public static Path logFile() {
        return Path.of(get(DevstackProcess.LOG));
    }

    /** The running components. */
    public static Set<String> components() {
        return DevstackProcess.parseComponents(get(DevstackProcess.COMPONENTS));
    }

    /** The whole state file ({@code postgres.port}, {@code kafka.bootstrap.servers}, {@code pid}, ...). */
    public static Map<String, String> state() {
        Map<String, String> state = new TreeMap<>(view());
        state.keySet().removeIf(key -> key.startsWith("testsupport."));
        return state;
    }

    /**
     * The configuration a service needs to use the devstack with {@code database} as its own
     * database (created when missing): the keys {@link DevstackResource} hands to Quarkus, for the
     * running components.
     */
    public static Map<String, String> serviceConfig(String database) {
        Map<String, String> view = view();
        Set<String> running = DevstackProcess.parseComponents(view.get(DevstackProcess.COMPONENTS));
        Map<String, String> config = new LinkedHashMap<>();
        if (running.contains("postgres")) {
            createDatabase(database);
            String address = require(view, StateFile.POSTGRES_HOST) + ":" + require(view, StateFile.POSTGRES_PORT) + "/" + database;
            config.put("quarkus.datasource.reactive.url", "postgresql://" + address);
            config.put("quarkus.datasource.jdbc.url", "jdbc:postgresql://" + address);
            config.put("quarkus.datasource.username", require(view, StateFile.POSTGRES_USERNAME));
            config.put("quarkus.datasource.password", require(view, StateFile.POSTGRES_PASSWORD));
        }
        if (running.contains("kafka")) {
            config.put("kafka.bootstrap.servers", require(view, StateFile.KAFKA_BOOTSTRAP_SERVERS));
        }
        if (running.contains("s3")) {
            config.put("mlinfra.s3.endpoint", require(view, StateFile.S3_ENDPOINT));
            config.put("mlinfra.s3.access-key", require(view, StateFile.S3_ACCESS_KEY));
            config.put("mlinfra.s3.secret-key", require(view, StateFile.S3_SECRET_KEY));
            config.put("mlinfra.s3.region", require(view, StateFile.S3_REGION));
        }
        // services verify identity tokens with the devstack's public key (a PEM file instead of the
        // gateway's JWKS); the gateway signs with its private half, published under key id "devstack"
        config.put("mp.jwt.verify.publickey.location", Path.of(require(view, DevstackProcess.PUBLIC_KEY)).toUri().toString());
        config.put("mlinfra.identity.current-key", IDENTITY_KEY_ID);
        config.put("mlinfra.identity.keys." + IDENTITY_KEY_ID + ".public-key-location", require(view, DevstackProcess.PUBLIC_KEY));
        config.put(IDENTITY_PRIVATE_KEY_PROPERTY, require(view, DevstackProcess.PRIVATE_KEY));
        return config;
    }

    /**
     * Sends one control command ({@code stop kafka}, {@code restart postgres}, {@code status}, ...)
     * and returns the answer; throws when the devstack answers {@code error: ...}.
     */
    public static String control(String command) {
        return JvmShared.call("control", command);
    }

    private static Map<String, String> view() {
        return JvmShared.call("view");
    }

    private static String get(String key) {
        return require(view(), key);
    }

    private static String require(Map<String, String> view, String key) {
        return DevstackProcess.require(view, key);
    }
}
