package dev.mlinfra.devstack;

import dev.mlinfra.devstack.postgres.RunAs;
import dev.mlinfra.devstack.process.Processes;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Where user namespaces are not allowed, a devstack running as root hands PostgreSQL to the
 * {@code nobody} user instead. Only meaningful (and only run) as root.
 */
class PostgresAsUnprivilegedUserTest {

    @Test
    void rootRunsPostgresAsNobodyWhenAskedTo() throws Exception {
        assumeTrue(Processes.effectiveUid() == 0, "only root needs to drop privileges");
        RunAs nobody = RunAs.detect("user");
        Path dataDir = Files.createTempDirectory("devstack-nobody-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));

        try (DevServers servers = new DevServers(new DevServers.Config(dataDir, Set.of("postgres"), List.of("infra"), nobody))) {
            servers.start();
            Map<String, String> state = servers.state();
            try (Connection connection = DriverManager.getConnection(servers.postgres().jdbcUrl("infra"),
                    state.get(StateFile.POSTGRES_USERNAME), state.get(StateFile.POSTGRES_PASSWORD))) {
                assertTrue(connection.isValid(5));
            }
            long postmaster = Long.parseLong(Files.readAllLines(dataDir.resolve("postgres/postmaster.pid")).get(0).trim());
            String status = Files.readString(Path.of("/proc", Long.toString(postmaster), "status"), StandardCharsets.UTF_8);
            String uidLine = status.lines().filter(line -> line.startsWith("Uid:")).findFirst().orElseThrow();
            assertEquals(Integer.toString(nobody.uid()), uidLine.split("\\s+")[2], uidLine);
            assertEquals(nobody.uid(), Processes.ownerUid(dataDir.resolve("postgres")));
        }
    }
}
