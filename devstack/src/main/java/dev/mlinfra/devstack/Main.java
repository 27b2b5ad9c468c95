package dev.mlinfra.devstack;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;

/**
 * {@code java -jar devstack.jar run|keys ...}: see {@link RunOptions#USAGE}. Standard output carries
 * only {@code devstack ready} and the answers of the control channel; logs go to standard error.
 */
public final class Main {

    private static final long PARENT_POLL_MILLIS = 500;

    private Main() {
    }

    public static void main(String[] args) {
        configureLogging();
        if (args.length == 0) {
            System.err.print(RunOptions.USAGE);
            System.exit(2);
        }
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        switch (args[0]) {
            case "run" -> run(rest);
            case "keys" -> System.exit(keys(rest));
            case "help", "-h", "--help" -> System.out.print(RunOptions.USAGE);
            default -> {
                System.err.println("unknown command " + args[0]);
                System.err.print(RunOptions.USAGE);
                System.exit(2);
            }
        }
    }

    /** slf4j-simple reads its settings once, from system properties; explicit -D settings win. */
    private static void configureLogging() {
        setDefault("org.slf4j.simpleLogger.logFile", "System.err");
        setDefault("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        setDefault("org.slf4j.simpleLogger.log.dev.mlinfra", "info");
        setDefault("org.slf4j.simpleLogger.log.org.apache.kafka", "error");
        setDefault("org.slf4j.simpleLogger.showDateTime", "true");
        setDefault("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
        setDefault("org.slf4j.simpleLogger.showThreadName", "false");
        setDefault("org.slf4j.simpleLogger.showShortLogName", "true");
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    private static int keys(List<String> args) {
        if (args.size() != 2 || !args.get(0).equals("--dir")) {
            System.err.print(RunOptions.USAGE);
            return 2;
        }
        try {
            IdentityKeys keys = IdentityKeys.ensure(Path.of(args.get(1)));
            System.out.println("identity keys: " + keys.privateKey() + " " + keys.publicKey());
            return 0;
        } catch (IOException e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        }
    }

    private static void run(List<String> args) {
        RunOptions options;
        try {
            options = RunOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.err.print(RunOptions.USAGE);
            System.exit(2);
            return;
        }
        Logger log = LoggerFactory.getLogger(Main.class);
        DevServers servers;
        try {
            servers = new DevServers(DevServers.Config.of(options.dataDir(), options.components(), options.databases()));
        } catch (IOException | RuntimeException e) {
            log.error("cannot start the devstack: {}", e.getMessage());
            System.exit(1);
            return;
        }
        long pid = ProcessHandle.current().pid();
        Path stateFile = options.stateFile().toAbsolutePath();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("stopping the devstack");
            servers.close();
            StateFile.deleteIfOwnedBy(stateFile, pid);
            log.info("devstack stopped");
        }, "devstack-shutdown"));
        if (options.exitWithParent()) {
            watchParent(log);
        }

        long started = System.nanoTime();
        try {
            servers.start();
            StateFile.write(stateFile, servers.state());
        } catch (Exception e) {
            log.error("the devstack failed to start: {}", e.getMessage(), e);
            System.exit(1);
            return;
        }
        log.info("devstack ready in {} ms (pid {}), state file {}\n{}",
                (System.nanoTime() - started) / 1_000_000, pid, stateFile, servers.describe());
        System.out.println("devstack ready");
        System.out.flush();

        if (options.controlStdin()) {
            new ControlChannel(servers, stateFile, System.out, log)
                    .serve(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)));
        }
        try {
            new CountDownLatch(1).await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void watchParent(Logger log) {
        Optional<ProcessHandle> parent = ProcessHandle.current().parent();
        if (parent.isEmpty()) {
            log.warn("--exit-with-parent: this process has no parent to watch");
            return;
        }
        long parentPid = parent.get().pid();
        Thread watcher = new Thread(() -> {
            while (parent.get().isAlive()
                    && ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L) == parentPid) {
                try {
                    Thread.sleep(PARENT_POLL_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
            }
            log.info("parent process {} is gone", parentPid);
            System.exit(0);
        }, "devstack-parent-watcher");
        watcher.setDaemon(true);
        watcher.start();
    }

    /** Commands on standard input, one per line, each answered with {@code ok} or {@code error: ...}. */
    static final class ControlChannel {

        private final DevServers servers;
        private final Path stateFile;
        private final PrintStream out;
        private final Logger log;

        ControlChannel(DevServers servers, Path stateFile, PrintStream out, Logger log) {
            this.servers = servers;
            this.stateFile = stateFile;
            this.out = out;
            this.log = log;
        }

        void serve(BufferedReader in) {
            try {
                String line;
                while ((line = in.readLine()) != null) {
                    if (!line.isBlank()) {
                        answer(handle(line.trim()));
                    }
                }
            } catch (IOException e) {
                log.warn("control channel closed: {}", e.getMessage());
            }
        }

        private String handle(String line) {
            List<String> words = Arrays.asList(line.toLowerCase(Locale.ROOT).split("\\s+"));
            try {
                String verb = words.get(0);
                if (verb.equals("ping") && words.size() == 1) {
                    return "ok";
                }
                if (verb.equals("status") && words.size() == 1) {
                    return "ok " + DevServers.COMPONENTS.stream()
                            .map(c -> c + "=" + (servers.isRunning(c) ? "running" : "stopped"))
                            .collect(Collectors.joining(" "));
                }
                if (words.size() != 2 || !List.of("start", "stop", "restart").contains(verb)) {
                    return "error: unknown command '" + line + "'; commands: start|stop|restart postgres|kafka|s3, status, ping";
                }
                String component = words.get(1);
                if (!DevServers.COMPONENTS.contains(component)) {
                    return "error: unknown component '" + component + "'; known: " + String.join(",", DevServers.COMPONENTS);
                }
                if (!verb.equals("start")) {
                    servers.stop(component);
                }
                if (!verb.equals("stop")) {
                    servers.start(component);
                    StateFile.write(stateFile, servers.state());
                }
                return "ok";
            } catch (Exception e) {
                log.error("'{}' failed", line, e);
                String message = e.getMessage() == null ? e.toString() : e.getMessage();
                return "error: " + message.replace('\n', ' ');
            }
        }

        private void answer(String text) {
            synchronized (out) {
                out.println(text);
                out.flush();
            }
        }
    }
}
