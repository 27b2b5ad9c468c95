package dev.mlinfra.deploychecks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code ./mlinfra} refuses what it does not understand, saying what, before it does anything. */
class CommandLineTest {

    private record Run(int exit, String output) {
    }

    private static Run mlinfra(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("bash", Repo.root().resolve("mlinfra").toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(Repo.root().toFile()).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "./mlinfra " + String.join(" ", args) + " did not end");
        return new Run(process.exitValue(), output);
    }

    @Test
    void anUnknownCommandIsNamed() throws Exception {
        Run run = mlinfra("stauts");
        assertEquals(2, run.exit(), run.output());
        assertTrue(run.output().startsWith("mlinfra: unknown command 'stauts'"), run.output());
        assertTrue(run.output().contains("Usage: ./mlinfra COMMAND"), run.output());
    }

    @Test
    void aCommandWithoutArgumentsRefusesThem() throws Exception {
        for (String command : List.of("up", "down", "status", "build")) {
            Run run = mlinfra(command, "now");
            assertEquals(2, run.exit(), command + ": " + run.output());
            assertEquals("mlinfra: '" + command + "' takes no arguments, got: now\n", run.output());
        }
    }

    @Test
    void logsTakesOneNameAndANumberOfLines() throws Exception {
        Run notANumber = mlinfra("logs", "gateway", "-n", "abc");
        assertEquals(1, notANumber.exit(), notANumber.output());
        assertTrue(notANumber.output().contains("-n needs a number of lines, got 'abc'"), notANumber.output());
        Run twoNames = mlinfra("logs", "gateway", "devstack");
        assertEquals(1, twoNames.exit(), twoNames.output());
        assertTrue(twoNames.output().contains("one log at a time: got 'gateway' and 'devstack'"), twoNames.output());
    }
}
