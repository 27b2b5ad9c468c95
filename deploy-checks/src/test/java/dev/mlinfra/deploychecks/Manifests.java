package dev.mlinfra.deploychecks;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Renders the Kustomize overlays with kubectl and reads what they produce, strictly. */
final class Manifests {

    static final ObjectMapper YAML = new YAMLMapper(new YAMLFactory())
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);

    /** Built-in kinds by apiVersion/kind, read into fabric8's typed models. */
    static final Map<String, Class<? extends HasMetadata>> TYPED = new LinkedHashMap<>();

    static {
        TYPED.put("v1/Namespace", Namespace.class);
        TYPED.put("v1/ConfigMap", ConfigMap.class);
        TYPED.put("v1/Secret", Secret.class);
        TYPED.put("v1/Service", Service.class);
        TYPED.put("v1/ServiceAccount", ServiceAccount.class);
        TYPED.put("apps/v1/Deployment", Deployment.class);
        TYPED.put("apps/v1/StatefulSet", StatefulSet.class);
        TYPED.put("autoscaling/v2/HorizontalPodAutoscaler", HorizontalPodAutoscaler.class);
        TYPED.put("policy/v1/PodDisruptionBudget", PodDisruptionBudget.class);
        TYPED.put("networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class);
        TYPED.put("networking.k8s.io/v1/Ingress", Ingress.class);
        TYPED.put("rbac.authorization.k8s.io/v1/Role", Role.class);
        TYPED.put("rbac.authorization.k8s.io/v1/RoleBinding", RoleBinding.class);
        TYPED.put("rbac.authorization.k8s.io/v1/ClusterRole", ClusterRole.class);
        TYPED.put("rbac.authorization.k8s.io/v1/ClusterRoleBinding", ClusterRoleBinding.class);
        TYPED.put("monitoring.coreos.com/v1/ServiceMonitor", ServiceMonitor.class);
    }

    /** One rendered object: the raw tree and, for a built-in kind, its typed model. */
    record Rendered(String apiVersion, String kind, String name, ObjectNode raw, HasMetadata typed) {

        String id() {
            return apiVersion + "/" + kind + " " + name;
        }

        <T> T as(Class<T> type) {
            return type.cast(typed);
        }
    }

    private static final Map<String, List<ObjectNode>> RENDERED = new LinkedHashMap<>();

    private Manifests() {
    }

    /** The system property that names the kubectl to render with (a path, or a command on the PATH). */
    static final String KUBECTL_PROPERTY = "mlinfra.kubectl";
    /** The environment variable read when the system property is not set. */
    static final String KUBECTL_ENV = "KUBECTL";

    /**
     * The kubectl to render with: the one named by {@code -Dmlinfra.kubectl} or {@code $KUBECTL}
     * (a relative path is taken from the repository root; a name without a slash is looked up on
     * the PATH), else the kubectl on the PATH, installed from Debian's kubernetes-client when
     * missing. k8s/ renders alike with kubectl 1.20 (kustomize v2.0.3) and newer (kustomize v5).
     */
    static Optional<Path> kubectl(StringBuilder why) {
        Optional<Path> kubectl = chosenKubectl(System.getProperty(KUBECTL_PROPERTY), System.getenv(KUBECTL_ENV));
        if (kubectl.isEmpty()) {
            kubectl = Tools.findOrInstall("kubectl", "kubernetes-client", why);
        }
        kubectl.ifPresent(Manifests::announce);
        return kubectl;
    }

    /** The kubectl chosen by the property, else by the environment variable; a choice that is not executable fails. */
    static Optional<Path> chosenKubectl(String property, String env) {
        String from = "-D" + KUBECTL_PROPERTY;
        String chosen = property;
        if (chosen == null || chosen.isBlank()) {
            from = "$" + KUBECTL_ENV;
            chosen = env;
        }
        if (chosen == null || chosen.isBlank()) {
            return Optional.empty();
        }
        chosen = chosen.strip();
        Path path = chosen.contains("/") ? Repo.root().resolve(chosen).normalize()
                : Tools.onPath(chosen).orElse(Path.of(chosen));
        if (!java.nio.file.Files.isExecutable(path) || java.nio.file.Files.isDirectory(path)) {
            throw new AssertionError(from + "=" + chosen + " names no executable kubectl (" + path + ")");
        }
        return Optional.of(path);
    }

    private static boolean announced;

    /** Says once which kubectl (and kustomize) renders k8s/, so that a run's log tells which was checked. */
    private static void announce(Path kubectl) {
        if (announced) {
            return;
        }
        announced = true;
        Tools.Result version = Tools.run(Repo.root(), Map.of(), 60, kubectl.toString(), "version", "--client", "-o", "json");
        try {
            JsonNode json = new ObjectMapper().readTree(version.stdout());
            String kustomize = json.path("kustomizeVersion").asText("");
            JsonNode client = json.path("clientVersion");
            String minor = client.path("minor").asText("").replaceAll("\\D", "");
            if (kustomize.isEmpty() && client.path("major").asText().equals("1") && !minor.isEmpty()
                    && Integer.parseInt(minor) >= 14 && Integer.parseInt(minor) <= 20) {
                kustomize = "v2.0.3 (embedded in kubectl 1.14 to 1.20)";
            }
            System.err.printf("[deploy-checks] rendering k8s/ with %s: kubectl %s%s%n", kubectl,
                    json.path("clientVersion").path("gitVersion").asText("?"),
                    kustomize.isEmpty() ? "" : ", kustomize " + kustomize);
        } catch (IOException e) {
            System.err.println("[deploy-checks] could not read the version of " + kubectl + ": " + version.describe());
        }
    }

    /** The objects `kubectl kustomize k8s/overlays/NAME` renders (cached per overlay). */
    static synchronized List<ObjectNode> render(Path kubectl, String overlay) {
        return RENDERED.computeIfAbsent(overlay, o -> {
            Tools.Result result = Tools.run(Repo.root(), Map.of(), 120, kubectl.toString(), "kustomize",
                    "k8s/overlays/" + o);
            if (!result.ok()) {
                throw new AssertionError("kubectl kustomize k8s/overlays/" + o + " failed: " + result.describe());
            }
            return readAll(result.stdout());
        });
    }

    static List<ObjectNode> readAll(String yaml) {
        List<ObjectNode> docs = new ArrayList<>();
        try (var parser = YAML.getFactory().createParser(yaml)) {
            var it = YAML.readValues(parser, JsonNode.class);
            while (it.hasNext()) {
                JsonNode node = it.next();
                if (node != null && node.isObject() && !node.isEmpty()) {
                    docs.add((ObjectNode) node);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return docs;
    }

    /**
     * Reads one object strictly: built-in kinds into their typed model (an unknown field anywhere
     * is a problem), custom resources against the field list of their CRD. Problems are added to
     * {@code problems}; the typed object is null for custom resources.
     */
    static Rendered read(ObjectNode raw, List<String> problems) {
        String apiVersion = raw.path("apiVersion").asText();
        String kind = raw.path("kind").asText();
        String name = raw.path("metadata").path("name").asText();
        String key = apiVersion + "/" + kind;
        Class<? extends HasMetadata> type = TYPED.get(key);
        HasMetadata typed = null;
        if (type != null) {
            try {
                typed = YAML.treeToValue(raw, type);
                for (String path : unknownFields(typed)) {
                    problems.add(key + " " + name + ": unknown field " + path);
                }
            } catch (IOException e) {
                problems.add(key + " " + name + ": " + e.getMessage().lines().findFirst().orElse(""));
            }
        } else if (CrdFields.knows(apiVersion, kind)) {
            for (String path : CrdFields.unknownFields(apiVersion, kind, raw)) {
                problems.add(key + " " + name + ": field " + path + " is not in the " + kind + " CRD");
            }
        } else {
            problems.add(key + " " + name + ": a kind these checks do not know; add its model or CRD field list");
        }
        return new Rendered(apiVersion, kind, name, raw, typed);
    }

    /** Paths of fields that a typed model kept as additional properties: fields its schema lacks. */
    static List<String> unknownFields(Object model) {
        List<String> found = new ArrayList<>();
        walk(model, "", found, java.util.Collections.newSetFromMap(new IdentityHashMap<>()));
        return found;
    }

    private static void walk(Object value, String path, List<String> found, Set<Object> seen) {
        if (value == null || !seen.add(value)) {
            return;
        }
        if (value instanceof Collection<?> list) {
            int i = 0;
            for (Object item : list) {
                walk(item, path + "[" + i++ + "]", found, seen);
            }
            return;
        }
        if (value instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                walk(e.getValue(), path + "." + e.getKey(), found, seen);
            }
            return;
        }
        if (!value.getClass().getName().startsWith("io.fabric8.")) {
            return;
        }
        for (Method m : value.getClass().getMethods()) {
            if (m.getParameterCount() != 0 || Modifier.isStatic(m.getModifiers()) || !m.getName().startsWith("get")
                    || m.getDeclaringClass() == Object.class) {
                continue;
            }
            Object child;
            try {
                child = m.invoke(value);
            } catch (ReflectiveOperationException | RuntimeException e) {
                continue;
            }
            if (m.getName().equals("getAdditionalProperties")) {
                if (child instanceof Map<?, ?> extra) {
                    for (Object k : extra.keySet()) {
                        found.add(path + "." + k);
                    }
                }
                continue;
            }
            String field = Character.toLowerCase(m.getName().charAt(3)) + m.getName().substring(4);
            walk(child, path + "." + field, found, seen);
        }
    }
}
