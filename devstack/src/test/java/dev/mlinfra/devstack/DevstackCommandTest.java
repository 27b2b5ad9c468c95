package dev.mlinfra.devstack;

import dev.mlinfra.devstack.process.FreePorts;
import dev.mlinfra.devstack.process.Processes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code devstack run} as a real process: readiness, state file, control channel, and no orphans. */
class DevstackCommandTest {

    private static final Duration STARTUP = Duration.ofSeconds(150);

    private final List<Process> launched = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        launched.forEach(process -> process.descendants().forEach(ProcessHandle::destroyForcibly));
        launched.forEach(Process::destroyForcibly);
    }

    @Test
    void controlledThenKilledThenRestartedOnTheSameData() throws Exception {
        Path work = Files.createTempDirectory("devstack-command-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Path dataDir = work.resolve("data");
        Path stateFile = work.resolve("state.properties");

        // 1. started with the control channel: answers commands, restarts Kafka on its port
        Process devstack = launch(work, "first", List.of("run", "--data-dir", dataDir.toString(), "--state-file",
                stateFile.toString(), "--components", "postgres,kafka", "--databases", "registry", "--control-stdin"));
        BufferedReader out = new BufferedReader(new InputStreamReader(devstack.getInputStream(), StandardCharsets.UTF_8));
        PrintWriter in = new PrintWriter(devstack.getOutputStream(), true, StandardCharsets.UTF_8);
        awaitReady(devstack, out, work.resolve("first.log"));

        Map<String, String> state = StateFile.read(stateFile);
        assertEquals(Long.toString(devstack.pid()), state.get(StateFile.PID));
        assertFalse(state.containsKey(StateFile.S3_ENDPOINT), "s3 was not asked for: " + state);
        int kafkaPort = Integer.parseInt(state.get(StateFile.KAFKA_BOOTSTRAP_SERVERS).split(":")[1]);
        try (Connection connection = connect(state, "registry"); Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE survivor (id int)");
            statement.execute("INSERT INTO survivor VALUES (7)");
        }

        assertEquals("ok", command(in, out, "ping"));
        assertTrue(command(in, out, "restart redis").startsWith("error: "));
        assertTrue(command(in, out, "fly away").startsWith("error: "));
        assertEquals("ok", command(in, out, "stop kafka"));
        assertFalse(FreePorts.isListening(kafkaPort));
        assertEquals("ok postgres=running kafka=stopped s3=stopped", command(in, out, "status"));
        assertEquals("ok", command(in, out, "start kafka"));
        assertTrue(FreePorts.isListening(kafkaPort), "Kafka is back on port " + kafkaPort);

        // 2. killed with SIGKILL: neither PostgreSQL nor Kafka outlives it
        long postmaster = Long.parseLong(Files.readAllLines(dataDir.resolve("postgres/postmaster.pid")).get(0).trim());
        long broker = Long.parseLong(Files.readString(dataDir.resolve("kafka/broker.pid")).trim());
        assertTrue(Processes.isAlive(postmaster) && Processes.isAlive(broker));
        devstack.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        assertTrue(Processes.awaitExit(postmaster, Duration.ofSeconds(30)), "PostgreSQL stops when its devstack is killed");
        assertTrue(Processes.awaitExit(broker, Duration.ofSeconds(40)), "Kafka stops when its devstack is killed");

        // 3. started again on the same data under a parent that then dies: data kept, everything stops
        Process parent = launchUnderShell(work, "second", List.of("run", "--data-dir", dataDir.toString(), "--state-file",
                stateFile.toString(), "--components", "postgres", "--exit-with-parent"));
        BufferedReader secondOut = new BufferedReader(new InputStreamReader(parent.getInputStream(), StandardCharsets.UTF_8));
        awaitReady(parent, secondOut, work.resolve("second.log"));
        Map<String, String> secondState = StateFile.read(stateFile);
        long secondPid = Long.parseLong(secondState.get(StateFile.PID));
        try (Connection connection = connect(secondState, "registry");
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT id FROM survivor")) {
            assertTrue(rows.next());
            assertEquals(7, rows.getInt(1));
        }
        long secondPostmaster = Long.parseLong(Files.readAllLines(dataDir.resolve("postgres/postmaster.pid")).get(0).trim());

        Processes.signal(parent.pid(), "KILL");
        assertTrue(Processes.awaitExit(secondPid, Duration.ofSeconds(40)), "the devstack follows its parent");
        assertTrue(Processes.awaitExit(secondPostmaster, Duration.ofSeconds(10)));
        assertFalse(Files.exists(stateFile), "a devstack that stops cleanly removes its state file");
        assertTrue(Files.readString(work.resolve("second.log")).contains("devstack stopped"));
    }

    private Process launch(Path work, String name, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(javaCommand());
        command.addAll(args);
        Process process = new ProcessBuilder(command)
                .redirectError(work.resolve(name + ".log").toFile())
                .start();
        launched.add(process);
        return process;
    }

    /** Runs the devstack as the child of a shell that stays its parent (no exec). */
    private Process launchUnderShell(Path work, String name, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(javaCommand());
        command.addAll(args);
        StringBuilder script = new StringBuilder();
        for (String part : command) {
            script.append('\'').append(part.replace("'", "'\\''")).append("' ");
        }
        script.append("; exit $?");
        Process process = new ProcessBuilder("/bin/sh", "-c", script.toString())
                .redirectError(work.resolve(name + ".log").toFile())
                .start();
        launched.add(process);
        return process;
    }

    private static List<String> javaCommand() {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName());
    }

    private static void awaitReady(Process process, BufferedReader out, Path log) throws Exception {
        long deadline = System.nanoTime() + STARTUP.toNanos();
        while (System.nanoTime() < deadline) {
            if (out.ready()) {
                String line = out.readLine();
                if ("devstack ready".equals(line)) {
                    return;
                }
            } else if (!process.isAlive()) {
                throw new AssertionError("devstack exited (" + process.exitValue() + "):\n" + Processes.tail(log, 40));
            } else {
                Thread.sleep(100);
            }
        }
        throw new AssertionError("no 'devstack ready' within " + STARTUP + ":\n" + Processes.tail(log, 40));
    }

    private static String command(PrintWriter in, BufferedReader out, String command) throws IOException {
        in.println(command);
        return out.readLine();
    }

    private static Connection connect(Map<String, String> state, String database) throws Exception {
        return DriverManager.getConnection("jdbc:postgresql://" + state.get(StateFile.POSTGRES_HOST) + ":"
                        + state.get(StateFile.POSTGRES_PORT) + "/" + database,
                state.get(StateFile.POSTGRES_USERNAME), state.get(StateFile.POSTGRES_PASSWORD));
    }
}
