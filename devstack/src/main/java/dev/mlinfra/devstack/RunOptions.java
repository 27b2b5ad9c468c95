package dev.mlinfra.devstack;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Options of {@code run}.
 *
 * @param dataDir        {@code --data-dir DIR}: server data, kept across runs (required)
 * @param stateFile      {@code --state-file FILE}: written atomically once every server answers (required)
 * @param components     {@code --components postgres,kafka,s3}: what to start (default all)
 * @param databases      {@code --databases a,b}: PostgreSQL databases created when missing
 * @param exitWithParent {@code --exit-with-parent}: stop everything when the parent process dies
 * @param controlStdin   {@code --control-stdin}: read {@code stop kafka}-style commands from stdin
 */
public record RunOptions(Path dataDir, Path stateFile, Set<String> components, List<String> databases,
                         boolean exitWithParent, boolean controlStdin) {

    public static final String USAGE = """
            usage:
              devstack run --data-dir DIR --state-file FILE [--components postgres,kafka,s3]
                           [--databases a,b,...] [--exit-with-parent] [--control-stdin]
              devstack keys --dir DIR
            """;

    public static RunOptions parse(List<String> args) {
        Path dataDir = null;
        Path stateFile = null;
        Set<String> components = new LinkedHashSet<>(DevServers.COMPONENTS);
        List<String> databases = new ArrayList<>();
        boolean exitWithParent = false;
        boolean controlStdin = false;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
            String inline = arg.contains("=") ? arg.substring(arg.indexOf('=') + 1) : null;
            switch (name) {
                case "--data-dir" -> {
                    dataDir = Path.of(inline != null ? inline : value(args, ++i, name));
                }
                case "--state-file" -> {
                    stateFile = Path.of(inline != null ? inline : value(args, ++i, name));
                }
                case "--components" -> {
                    components = new LinkedHashSet<>(list(inline != null ? inline : value(args, ++i, name)));
                    if (components.isEmpty()) {
                        throw new IllegalArgumentException("--components needs at least one of " + DevServers.COMPONENTS);
                    }
                }
                case "--databases" -> databases = list(inline != null ? inline : value(args, ++i, name));
                case "--exit-with-parent" -> exitWithParent = true;
                case "--control-stdin" -> controlStdin = true;
                default -> throw new IllegalArgumentException("unknown option " + arg);
            }
        }
        if (dataDir == null) {
            throw new IllegalArgumentException("--data-dir is required");
        }
        if (stateFile == null) {
            throw new IllegalArgumentException("--state-file is required");
        }
        for (String component : components) {
            if (!DevServers.COMPONENTS.contains(component)) {
                throw new IllegalArgumentException("unknown component '" + component + "'; known: "
                        + String.join(",", DevServers.COMPONENTS));
            }
        }
        return new RunOptions(dataDir, stateFile, components, List.copyOf(databases), exitWithParent, controlStdin);
    }

    private static String value(List<String> args, int index, String option) {
        if (index >= args.size() || args.get(index).startsWith("--")) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args.get(index);
    }

    private static List<String> list(String value) {
        return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).distinct().toList();
    }
}
