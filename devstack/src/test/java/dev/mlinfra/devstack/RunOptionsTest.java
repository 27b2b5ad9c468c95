package dev.mlinfra.devstack;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunOptionsTest {

    @Test
    void startsEverythingUnlessComponentsAreNamed() {
        RunOptions options = RunOptions.parse(List.of("--data-dir", "d", "--state-file", "s"));

        assertEquals(Path.of("d"), options.dataDir());
        assertEquals(Path.of("s"), options.stateFile());
        assertEquals(Set.of("postgres", "kafka", "s3"), options.components());
        assertEquals(List.of(), options.databases());
        assertFalse(options.exitWithParent());
        assertFalse(options.controlStdin());
    }

    @Test
    void readsEveryOptionInBothSpellings() {
        RunOptions options = RunOptions.parse(List.of("--data-dir=d", "--state-file", "s", "--components", "kafka,postgres",
                "--databases=datasets, training", "--exit-with-parent", "--control-stdin"));

        assertEquals(Set.of("kafka", "postgres"), options.components());
        assertEquals(List.of("datasets", "training"), options.databases());
        assertTrue(options.exitWithParent());
        assertTrue(options.controlStdin());
    }

    @Test
    void refusesUnknownComponentsOptionsAndMissingDirectories() {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> RunOptions.parse(List.of("--data-dir", "d", "--state-file", "s", "--components", "redis")))
                .getMessage().contains("redis"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> RunOptions.parse(List.of("--data-dir", "d", "--state-file", "s", "--verbose")))
                .getMessage().contains("--verbose"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> RunOptions.parse(List.of("--state-file", "s"))).getMessage().contains("--data-dir"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> RunOptions.parse(List.of("--data-dir", "--state-file", "s"))).getMessage().contains("needs a value"));
    }
}
