package dev.mlinfra.devstack.kafka;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Entry point of the Kafka child JVM: formats the KRaft storage on first use, then runs the broker
 * ({@code kafka.Kafka}). A watcher thread ends the JVM (through Kafka's own shutdown hook) as soon
 * as the devstack that started it is gone, so a killed devstack leaves no broker behind.
 *
 * <p>Arguments: {@code <owner pid> <server.properties> <cluster id>}.
 */
public final class KafkaBrokerMain {

    private static final long PARENT_POLL_MILLIS = 500;
    private static final long SHUTDOWN_GRACE_MILLIS = 30_000;

    private KafkaBrokerMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: KafkaBrokerMain <owner pid> <server.properties> <cluster id>");
            System.exit(2);
        }
        long owner = Long.parseLong(args[0]);
        Path config = Path.of(args[1]);
        String clusterId = args[2];
        watchOwner(owner);

        Path logDir = Path.of(load(config).getProperty("log.dirs"));
        if (!Files.exists(logDir.resolve("meta.properties"))) {
            int exit = kafka.tools.StorageTool.execute(new String[] {
                    "format", "--cluster-id", clusterId, "--config", config.toString(), "--ignore-formatted"}, System.out);
            if (exit != 0) {
                System.err.println("formatting " + logDir + " failed with exit code " + exit);
                System.exit(exit);
            }
        }
        kafka.Kafka.main(new String[] {config.toString()});
    }

    private static void watchOwner(long owner) {
        Thread watcher = new Thread(() -> {
            while (ownerAlive(owner)) {
                try {
                    Thread.sleep(PARENT_POLL_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
            }
            System.err.println("devstack process " + owner + " is gone; shutting the broker down");
            Thread halt = new Thread(() -> {
                try {
                    Thread.sleep(SHUTDOWN_GRACE_MILLIS);
                } catch (InterruptedException e) {
                    // halt now
                }
                Runtime.getRuntime().halt(1);
            }, "kafka-halt-timer");
            halt.setDaemon(true);
            halt.start();
            System.exit(0);
        }, "devstack-owner-watcher");
        watcher.setDaemon(true);
        watcher.start();
    }

    /** Alive and still our parent (after a crash we would be re-parented, and the pid may be reused). */
    private static boolean ownerAlive(long owner) {
        boolean stillParent = ProcessHandle.current().parent().map(ProcessHandle::pid).map(pid -> pid == owner).orElse(false);
        return stillParent && ProcessHandle.of(owner).map(ProcessHandle::isAlive).orElse(false);
    }

    private static Properties load(Path config) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(config, StandardCharsets.UTF_8)) {
            properties.load(reader);
        }
        return properties;
    }
}
