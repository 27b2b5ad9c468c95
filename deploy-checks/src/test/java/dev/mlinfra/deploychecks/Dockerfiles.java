package dev.mlinfra.deploychecks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/** Reads a Dockerfile into instructions and finds what breaks the rules of our images. */
final class Dockerfiles {

    /** One instruction: its keyword (upper case) and its arguments, continuation lines joined. */
    record Instruction(String keyword, String args) {
    }

    private static final Pattern SECRET_NAME = Pattern.compile("(?i).*(KEY|SECRET|PASSWORD|TOKEN|CREDENTIAL).*");
    private static final Pattern DIGEST = Pattern.compile(".+@sha256:[0-9a-f]{64}");
    /** An exact version tag: starts with a digit and has at least two numeric parts (25.0.1_8-jre-noble). */
    private static final Pattern EXACT_TAG = Pattern.compile("\\d+(\\.\\d+)+([._-][A-Za-z0-9._-]+)?");

    private Dockerfiles() {
    }

    static List<Instruction> parse(String text) {
        List<Instruction> instructions = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            String trimmed = line.strip();
            if (current.isEmpty() && (trimmed.isEmpty() || trimmed.startsWith("#"))) {
                continue;
            }
            if (!current.isEmpty() && trimmed.startsWith("#")) {
                continue; // a comment inside a continued instruction
            }
            if (trimmed.endsWith("\\")) {
                current.append(trimmed, 0, trimmed.length() - 1).append(' ');
                continue;
            }
            current.append(trimmed);
            String full = current.toString().strip();
            current.setLength(0);
            if (full.isEmpty()) {
                continue;
            }
            int space = full.indexOf(' ');
            String keyword = (space < 0 ? full : full.substring(0, space)).toUpperCase(Locale.ROOT);
            String args = space < 0 ? "" : full.substring(space + 1).strip();
            instructions.add(new Instruction(keyword, args));
        }
        return instructions;
    }

    /**
     * What is wrong with a Dockerfile, one line each; empty when nothing is.
     *
     * @param moduleDir the build context, against which COPY sources are resolved
     * @param serves whether the image runs a server (then HEALTHCHECK NONE is not enough)
     */
    static List<String> problems(Path dockerfile, Path moduleDir, boolean serves) {
        List<String> problems = new ArrayList<>();
        List<Instruction> instructions = parse(Repo.read(dockerfile));
        List<String> stages = new ArrayList<>();
        String user = null;
        boolean healthcheck = false;
        for (Instruction in : instructions) {
            switch (in.keyword()) {
                case "FROM" -> {
                    String[] words = in.args().split("\\s+");
                    int i = 0;
                    while (i < words.length && words[i].startsWith("--")) {
                        i++;
                    }
                    String image = i < words.length ? words[i] : "";
                    if (!stages.contains(image)) {
                        String why = unpinned(image);
                        if (why != null) {
                            problems.add("FROM " + image + ": " + why);
                        }
                    }
                    for (int j = i + 1; j + 1 < words.length; j++) {
                        if (words[j].equalsIgnoreCase("AS")) {
                            stages.add(words[j + 1]);
                        }
                    }
                }
                case "USER" -> user = in.args();
                case "HEALTHCHECK" -> {
                    healthcheck = true;
                    if (serves && in.args().strip().equalsIgnoreCase("NONE")) {
                        problems.add("HEALTHCHECK NONE in the image of a server: probe its health endpoint");
                    }
                }
                case "ENV", "ARG" -> problems.addAll(secretsIn(in));
                case "COPY", "ADD" -> problems.addAll(missingSources(in, moduleDir));
                default -> {
                }
            }
        }
        if (user == null) {
            problems.add("no USER: the image would run as root");
        } else {
            String uid = user.split(":")[0].strip();
            if (!uid.matches("\\d+")) {
                problems.add("USER " + user + ": give a numeric uid, so that runAsNonRoot can verify it");
            } else if (Long.parseLong(uid) == 0) {
                problems.add("USER " + user + ": runs as root");
            }
        }
        if (!healthcheck) {
            problems.add("no HEALTHCHECK");
        }
        return problems;
    }

    /** Why an image reference is not pinned to one exact build, or null when it is. */
    static String unpinned(String image) {
        if (DIGEST.matcher(image).matches()) {
            return null;
        }
        if (image.contains("$")) {
            return "the image comes from a build argument; pin it in the Dockerfile";
        }
        int slash = image.lastIndexOf('/');
        int colon = image.lastIndexOf(':');
        if (colon <= slash) {
            return "no tag (means latest): pin an exact version or a digest";
        }
        String tag = image.substring(colon + 1);
        if (tag.equals("latest")) {
            return "latest is not a version: pin an exact version or a digest";
        }
        if (!EXACT_TAG.matcher(tag).matches() && !tag.startsWith("RELEASE.")) {
            return "tag '" + tag + "' is not an exact version (e.g. 25.0.1_8-jre-noble): pin one or a digest";
        }
        return null;
    }

    private static List<String> secretsIn(Instruction in) {
        List<String> problems = new ArrayList<>();
        // ENV A=1 B="2" | ENV A 1 | ARG A | ARG A=1
        String args = in.args();
        List<String[]> pairs = new ArrayList<>();
        if (!args.contains("=")) {
            String[] words = args.split("\\s+", 2);
            pairs.add(new String[] {words[0], words.length > 1 ? words[1] : ""});
        } else {
            for (String token : args.split("\\s+(?=[A-Za-z_][A-Za-z0-9_]*=)")) {
                int eq = token.indexOf('=');
                pairs.add(eq < 0 ? new String[] {token, ""} : new String[] {token.substring(0, eq), token.substring(eq + 1)});
            }
        }
        for (String[] pair : pairs) {
            String value = pair[1].replace("\"", "").strip();
            if (SECRET_NAME.matcher(pair[0]).matches() && !value.isEmpty()) {
                problems.add(in.keyword() + " " + pair[0] + " has a value: secrets come at run time, never in the image");
            }
        }
        return problems;
    }

    private static List<String> missingSources(Instruction in, Path moduleDir) {
        List<String> words = new ArrayList<>(List.of(in.args().split("\\s+")));
        if (words.stream().anyMatch(w -> w.startsWith("--from="))) {
            return List.of(); // from another stage or image
        }
        words.removeIf(w -> w.startsWith("--"));
        if (in.args().strip().startsWith("[")) {
            return List.of(in.keyword() + " in JSON form is not checked: use the plain form");
        }
        List<String> problems = new ArrayList<>();
        for (String source : words.subList(0, Math.max(0, words.size() - 1))) {
            if (source.contains("*") || source.contains("$")) {
                problems.add(in.keyword() + " " + source + ": name the file, so that its existence can be checked");
            } else if (!Files.exists(moduleDir.resolve(source))) {
                problems.add(in.keyword() + " " + source + ": does not exist in " + moduleDir
                        + " after the build");
            }
        }
        return problems;
    }
}
