package dev.mlinfra.deploychecks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.openshift.api.model.monitoring.v1.Endpoint;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The rules every installation of the platform follows, checked on what each overlay renders. */
class ManifestPolicyTest {

    static final String MANAGEMENT = "management";
    static final int MANAGEMENT_PORT = 9000;

    /** The Kubernetes API access each service may have: api group -> resources -> verbs. Nothing else. */
    static final Map<String, Map<String, Set<String>>> ALLOWED_RULES = Map.of(
            "training-service", Map.of("trainer.kubeflow.org", Set.of("trainjobs")),
            "inference-service", Map.of("serving.kserve.io", Set.of("inferenceservices", "llminferenceservices")));
    static final Set<String> ALLOWED_VERBS = Set.of("get", "list", "watch", "create", "delete");

    static <T> List<T> all(List<Manifests.Rendered> objects, Class<T> type) {
        return objects.stream().filter(o -> type.isInstance(o.typed())).map(o -> type.cast(o.typed())).toList();
    }

    /** Every workload's pod template by "Kind name". */
    static Map<String, PodTemplateSpec> workloads(List<Manifests.Rendered> objects) {
        Map<String, PodTemplateSpec> pods = new java.util.LinkedHashMap<>();
        all(objects, Deployment.class).forEach(d -> pods.put("Deployment " + d.getMetadata().getName(), d.getSpec().getTemplate()));
        all(objects, StatefulSet.class).forEach(s -> pods.put("StatefulSet " + s.getMetadata().getName(), s.getSpec().getTemplate()));
        return pods;
    }

    static boolean matches(LabelSelector selector, Map<String, String> labels) {
        if (selector == null) {
            return false;
        }
        Map<String, String> have = labels == null ? Map.of() : labels;
        if (selector.getMatchLabels() != null) {
            for (var e : selector.getMatchLabels().entrySet()) {
                if (!e.getValue().equals(have.get(e.getKey()))) {
                    return false;
                }
            }
        }
        if (selector.getMatchExpressions() != null) {
            for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
                String v = have.get(r.getKey());
                boolean ok = switch (r.getOperator()) {
                    case "In" -> v != null && r.getValues().contains(v);
                    case "NotIn" -> v == null || !r.getValues().contains(v);
                    case "Exists" -> v != null;
                    case "DoesNotExist" -> v == null;
                    default -> false;
                };
                if (!ok) {
                    return false;
                }
            }
        }
        return true;
    }

    static boolean isManagementPort(IntOrString port) {
        return port != null && (MANAGEMENT.equals(port.getStrVal()) || Objects.equals(port.getIntVal(), MANAGEMENT_PORT));
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void everyServiceModuleRunsAsADeployment(String overlay) {
        List<Manifests.Rendered> objects = KustomizeRenderTest.rendered(overlay);
        Set<String> deployments = new java.util.HashSet<>(all(objects, Deployment.class).stream()
                .map(d -> d.getMetadata().getName()).toList());
        List<String> missing = Repo.deployedServices().stream().filter(m -> !deployments.contains(m)).toList();
        assertEquals(List.of(), missing, "service modules without a Deployment in k8s/overlays/" + overlay);
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void everyContainerIsProbedLimitedAndLockedDown(String overlay) {
        List<Manifests.Rendered> objects = KustomizeRenderTest.rendered(overlay);
        List<String> problems = new ArrayList<>();
        Set<String> services = Set.copyOf(all(objects, Deployment.class).stream().map(d -> d.getMetadata().getName()).toList());
        workloads(objects).forEach((workload, template) -> {
            PodSpec pod = template.getSpec();
            PodSecurityContext podSecurity = pod.getSecurityContext();
            boolean service = workload.startsWith("Deployment ");
            List<Container> containers = new ArrayList<>(pod.getContainers());
            if (pod.getInitContainers() != null) {
                containers.addAll(pod.getInitContainers());
            }
            for (Container c : containers) {
                String where = workload + " container " + c.getName() + ": ";
                String unpinned = Dockerfiles.unpinned(c.getImage());
                if (unpinned != null) {
                    problems.add(where + "image " + c.getImage() + ": " + unpinned);
                } else if (c.getImage().startsWith("mlinfra/") && !c.getImage().endsWith(":" + Repo.imageVersion())) {
                    problems.add(where + "image " + c.getImage() + " is not this version, " + Repo.imageVersion());
                }
                checkProbe(problems, where + "liveness probe", c.getLivenessProbe(), service);
                checkProbe(problems, where + "readiness probe", c.getReadinessProbe(), service);
                var resources = c.getResources();
                for (String kind : List.of("requests", "limits")) {
                    var values = resources == null ? null
                            : kind.equals("requests") ? resources.getRequests() : resources.getLimits();
                    for (String r : List.of("cpu", "memory")) {
                        if (values == null || !values.containsKey(r)) {
                            problems.add(where + "no " + r + " in resources." + kind);
                        }
                    }
                }
                SecurityContext sc = c.getSecurityContext();
                boolean nonRoot = (sc != null && Boolean.TRUE.equals(sc.getRunAsNonRoot()))
                        || (podSecurity != null && Boolean.TRUE.equals(podSecurity.getRunAsNonRoot())
                                && (sc == null || sc.getRunAsNonRoot() == null));
                if (!nonRoot) {
                    problems.add(where + "runAsNonRoot is not true");
                }
                if (sc == null || !Boolean.TRUE.equals(sc.getReadOnlyRootFilesystem())) {
                    problems.add(where + "readOnlyRootFilesystem is not true");
                }
                if (sc == null || !Boolean.FALSE.equals(sc.getAllowPrivilegeEscalation())) {
                    problems.add(where + "allowPrivilegeEscalation is not false");
                }
                if (sc == null || sc.getCapabilities() == null || sc.getCapabilities().getDrop() == null
                        || !sc.getCapabilities().getDrop().contains("ALL")) {
                    problems.add(where + "capabilities do not drop ALL");
                }
            }
            String seccomp = podSecurity != null && podSecurity.getSeccompProfile() != null
                    ? podSecurity.getSeccompProfile().getType() : null;
            if (!"RuntimeDefault".equals(seccomp)) {
                problems.add(workload + ": pod seccompProfile is not RuntimeDefault");
            }
        });
        assertTrue(!services.isEmpty(), "no Deployment rendered");
        assertEquals(List.of(), problems, "k8s/overlays/" + overlay);
    }

    private static void checkProbe(List<String> problems, String what, Probe probe, boolean onManagementPort) {
        if (probe == null) {
            problems.add(what + " missing");
        } else if (onManagementPort) {
            if (probe.getHttpGet() == null || !isManagementPort(probe.getHttpGet().getPort())) {
                problems.add(what + " is not an HTTP GET on the management port");
            } else if (!probe.getHttpGet().getPath().startsWith("/q/health/")) {
                problems.add(what + " is not a /q/health/ endpoint: " + probe.getHttpGet().getPath());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void everyDeploymentHasANetworkPolicyADisruptionBudgetAndAServiceMonitor(String overlay) {
        List<Manifests.Rendered> objects = KustomizeRenderTest.rendered(overlay);
        List<NetworkPolicy> policies = all(objects, NetworkPolicy.class);
        List<PodDisruptionBudget> budgets = all(objects, PodDisruptionBudget.class);
        List<Service> services = all(objects, Service.class);
        List<ServiceMonitor> monitors = all(objects, ServiceMonitor.class);
        List<String> problems = new ArrayList<>();
        boolean defaultDeny = policies.stream().anyMatch(p -> p.getSpec().getPodSelector() != null
                && (p.getSpec().getPodSelector().getMatchLabels() == null || p.getSpec().getPodSelector().getMatchLabels().isEmpty())
                && (p.getSpec().getPodSelector().getMatchExpressions() == null || p.getSpec().getPodSelector().getMatchExpressions().isEmpty())
                && p.getSpec().getPolicyTypes().contains("Ingress")
                && (p.getSpec().getIngress() == null || p.getSpec().getIngress().isEmpty()));
        if (!defaultDeny) {
            problems.add("no NetworkPolicy denying all ingress by default");
        }
        for (Deployment d : all(objects, Deployment.class)) {
            String name = d.getMetadata().getName();
            Map<String, String> labels = d.getSpec().getTemplate().getMetadata().getLabels();
            List<NetworkPolicy> selecting = policies.stream()
                    .filter(p -> matches(p.getSpec().getPodSelector(), labels)
                            && p.getSpec().getIngress() != null && !p.getSpec().getIngress().isEmpty())
                    .toList();
            if (selecting.isEmpty()) {
                problems.add("Deployment " + name + ": no NetworkPolicy lets anything in");
            }
            boolean scrapable = selecting.stream().flatMap(p -> p.getSpec().getIngress().stream())
                    .anyMatch(rule -> rule.getFrom() != null && rule.getFrom().stream().anyMatch(peer ->
                            peer.getNamespaceSelector() != null && peer.getPodSelector() == null
                                    && matches(peer.getNamespaceSelector(), Map.of("kubernetes.io/metadata.name", "monitoring")))
                            && rule.getPorts() != null && rule.getPorts().stream().anyMatch(port -> isManagementPort(port.getPort())));
            if (!scrapable) {
                problems.add("Deployment " + name + ": the monitoring namespace cannot reach its management port");
            }
            if (budgets.stream().noneMatch(b -> matches(b.getSpec().getSelector(), labels))) {
                problems.add("Deployment " + name + ": no PodDisruptionBudget");
            }
            List<Service> fronting = services.stream().filter(s -> s.getSpec().getSelector() != null
                    && labels.entrySet().containsAll(s.getSpec().getSelector().entrySet())
                    && s.getSpec().getPorts().stream().map(ServicePort::getName).anyMatch(MANAGEMENT::equals)).toList();
            boolean monitored = monitors.stream().anyMatch(m -> fronting.stream().anyMatch(s ->
                    matches(m.getSpec().getSelector(), s.getMetadata().getLabels()))
                    && m.getSpec().getEndpoints().stream().anyMatch(ManifestPolicyTest::scrapesMetrics));
            if (!monitored) {
                problems.add("Deployment " + name + ": no ServiceMonitor scrapes /q/metrics on its management port");
            }
        }
        // Only the gateway may be reached from outside the namespace (other than by the monitoring scrape).
        for (NetworkPolicy p : policies) {
            boolean gatewayOnly = p.getSpec().getPodSelector().getMatchLabels() != null
                    && "gateway".equals(p.getSpec().getPodSelector().getMatchLabels().get("app.kubernetes.io/name"));
            for (NetworkPolicyIngressRule rule : p.getSpec().getIngress() == null ? List.<NetworkPolicyIngressRule>of() : p.getSpec().getIngress()) {
                boolean fromOutside = rule.getFrom() == null || rule.getFrom().isEmpty()
                        || rule.getFrom().stream().anyMatch(ManifestPolicyTest::outside);
                boolean managementOnly = rule.getPorts() != null && !rule.getPorts().isEmpty()
                        && rule.getPorts().stream().map(NetworkPolicyPort::getPort).allMatch(ManifestPolicyTest::isManagementPort);
                boolean operatorNamespace = rule.getFrom() != null && !rule.getFrom().isEmpty()
                        && rule.getFrom().stream().allMatch(peer -> peer.getNamespaceSelector() != null
                                && peer.getNamespaceSelector().getMatchLabels() != null
                                && Set.of("monitoring", "cnpg-system").contains(
                                        peer.getNamespaceSelector().getMatchLabels().get("kubernetes.io/metadata.name")));
                if (fromOutside && !gatewayOnly && !managementOnly && !operatorNamespace) {
                    problems.add("NetworkPolicy " + p.getMetadata().getName()
                            + " lets traffic from outside the namespace reach pods other than the gateway");
                }
            }
        }
        assertEquals(List.of(), problems, "k8s/overlays/" + overlay);
    }

    private static boolean outside(NetworkPolicyPeer peer) {
        return peer.getIpBlock() != null || peer.getNamespaceSelector() != null;
    }

    private static boolean scrapesMetrics(Endpoint e) {
        return MANAGEMENT.equals(e.getPort()) && "/q/metrics".equals(e.getPath());
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void kubernetesApiAccessIsLeastPrivilege(String overlay) {
        List<Manifests.Rendered> objects = KustomizeRenderTest.rendered(overlay);
        List<String> problems = new ArrayList<>();
        objects.stream().filter(o -> o.kind().startsWith("Cluster") && o.apiVersion().startsWith("rbac."))
                .forEach(o -> problems.add(o.kind() + " " + o.name() + ": services get namespaced Roles only"));
        Map<String, Role> roles = new java.util.HashMap<>();
        all(objects, Role.class).forEach(r -> roles.put(r.getMetadata().getName(), r));
        Map<String, List<Role>> rolesOfAccount = new java.util.HashMap<>();
        for (RoleBinding b : all(objects, RoleBinding.class)) {
            Role role = roles.get(b.getRoleRef().getName());
            if (!"Role".equals(b.getRoleRef().getKind()) || role == null) {
                problems.add("RoleBinding " + b.getMetadata().getName() + " binds " + b.getRoleRef().getKind() + " "
                        + b.getRoleRef().getName() + ", not a Role of this installation");
                continue;
            }
            for (Subject s : b.getSubjects()) {
                if (!"ServiceAccount".equals(s.getKind())) {
                    problems.add("RoleBinding " + b.getMetadata().getName() + " binds a " + s.getKind());
                }
                rolesOfAccount.computeIfAbsent(s.getName(), k -> new ArrayList<>()).add(role);
            }
        }
        rolesOfAccount.forEach((account, bound) -> {
            Map<String, Set<String>> allowed = ALLOWED_RULES.getOrDefault(account, Map.of());
            for (Role role : bound) {
                for (PolicyRule rule : role.getRules()) {
                    for (String group : rule.getApiGroups()) {
                        for (String resource : rule.getResources()) {
                            if (!allowed.getOrDefault(group, Set.of()).contains(resource)) {
                                problems.add(account + " may use " + group + "/" + resource + " (Role " + role.getMetadata().getName() + ")");
                            }
                        }
                    }
                    rule.getVerbs().stream().filter(v -> !ALLOWED_VERBS.contains(v))
                            .forEach(v -> problems.add(account + " has verb " + v + " (Role " + role.getMetadata().getName() + ")"));
                    if (rule.getResourceNames() != null && rule.getResourceNames().contains("*")
                            || rule.getNonResourceURLs() != null && !rule.getNonResourceURLs().isEmpty()) {
                        problems.add(account + ": wildcard or non-resource rule in Role " + role.getMetadata().getName());
                    }
                }
            }
        });
        for (var entry : workloads(objects).entrySet()) {
            PodSpec pod = entry.getValue().getSpec();
            String account = pod.getServiceAccountName() == null ? "default" : pod.getServiceAccountName();
            if (!rolesOfAccount.containsKey(account) && !Boolean.FALSE.equals(pod.getAutomountServiceAccountToken())) {
                problems.add(entry.getKey() + ": has no Kubernetes API access, yet mounts a service account token");
            }
        }
        assertEquals(List.of(), problems, "k8s/overlays/" + overlay);
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void noSecretIsCommittedAndConfiguredImagesArePinned(String overlay) {
        List<Manifests.Rendered> objects = KustomizeRenderTest.rendered(overlay);
        List<String> problems = new ArrayList<>();
        objects.stream().filter(o -> o.kind().equals("Secret"))
                .forEach(o -> problems.add("Secret " + o.name() + " is committed: reference Secrets created in the cluster"));
        for (ConfigMap cm : all(objects, ConfigMap.class)) {
            if (cm.getData() == null) {
                continue;
            }
            cm.getData().forEach((key, value) -> value.lines()
                    .filter(l -> !l.startsWith("#") && l.matches("[^=]*\\.image\\s*=.*"))
                    .forEach(l -> {
                        String image = l.substring(l.indexOf('=') + 1).strip();
                        String why = Dockerfiles.unpinned(image);
                        if (why != null) {
                            problems.add("ConfigMap " + cm.getMetadata().getName() + " " + l + ": " + why);
                        } else if (image.startsWith("mlinfra/") && !image.endsWith(":" + Repo.imageVersion())) {
                            problems.add("ConfigMap " + cm.getMetadata().getName() + " " + l + ": not version " + Repo.imageVersion());
                        }
                    }));
        }
        assertEquals(List.of(), problems, "k8s/overlays/" + overlay);
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void autoscaledGatewaysShareTheirRateLimits(String overlay) {
        List<Manifests.Rendered> objects = KustomizeRenderTest.rendered(overlay);
        Map<String, HorizontalPodAutoscaler> hpas = new java.util.HashMap<>();
        all(objects, HorizontalPodAutoscaler.class).forEach(h -> hpas.put(h.getSpec().getScaleTargetRef().getName(), h));
        assertTrue(hpas.keySet().containsAll(List.of("gateway", "inference-service")),
                "HorizontalPodAutoscalers for the gateway and inference-service; found " + hpas.keySet());
        Deployment gateway = all(objects, Deployment.class).stream().filter(d -> d.getMetadata().getName().equals("gateway"))
                .findFirst().orElseThrow();
        String store = gateway.getSpec().getTemplate().getSpec().getContainers().stream()
                .flatMap(c -> c.getEnv() == null ? Stream.<EnvVar>empty() : c.getEnv().stream())
                .filter(e -> e.getName().equals("MLINFRA_GATEWAY_RATE_LIMIT_STORE")).map(EnvVar::getValue)
                .findFirst().orElse("memory");
        int max = hpas.get("gateway").getSpec().getMaxReplicas();
        if (max > 1) {
            assertEquals("postgres", store, "the gateway scales to " + max
                    + " replicas: its rate-limit store must be shared (postgres), or each replica counts its own budget");
        }
        if (overlay.equals("prod")) {
            assertTrue(hpas.get("gateway").getSpec().getMinReplicas() > 1, "prod runs several gateway replicas");
        }
    }

    static final String PART_OF = "app.kubernetes.io/part-of";

    /**
     * Objects, pod templates and volume claim templates without app.kubernetes.io/part-of: mlinfra
     * (written in each file, as kustomize v2.0.3 has no way to add a label to templates but not to
     * selectors; the NetworkPolicy services-from-platform selects pods by it).
     */
    static List<String> notPartOfMlinfra(List<Manifests.Rendered> objects) {
        List<String> problems = new ArrayList<>();
        for (Manifests.Rendered o : objects) {
            String where = o.kind() + " " + o.name();
            checkPartOf(problems, where, o.raw().path("metadata"));
            JsonNode template = o.raw().path("spec").path("template");
            if (template.isObject()) {
                checkPartOf(problems, where + " pod template", template.path("metadata"));
            }
            for (JsonNode claim : o.raw().path("spec").path("volumeClaimTemplates")) {
                checkPartOf(problems, where + " volume claim template " + claim.path("metadata").path("name").asText(),
                        claim.path("metadata"));
            }
        }
        return problems;
    }

    private static void checkPartOf(List<String> problems, String where, JsonNode metadata) {
        if (!"mlinfra".equals(metadata.path("labels").path(PART_OF).asText(null))) {
            problems.add(where + ": no label " + PART_OF + ": mlinfra");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void everyObjectIsLabelledPartOfMlinfra(String overlay) {
        assertEquals(List.of(), notPartOfMlinfra(KustomizeRenderTest.rendered(overlay)), "k8s/overlays/" + overlay);
    }

    /**
     * KafkaTopics whose replicas differ from their cluster's default.replication.factor or exceed
     * its brokers (prod patches each topic: a new topic that the patch misses is caught here).
     */
    static List<String> topicReplicationProblems(List<Manifests.Rendered> objects) {
        List<String> problems = new ArrayList<>();
        Map<String, JsonNode> clusters = new java.util.HashMap<>();
        Map<String, Integer> brokers = new java.util.HashMap<>();
        for (Manifests.Rendered o : objects) {
            if (o.kind().equals("Kafka")) {
                clusters.put(o.name(), o.raw());
            } else if (o.kind().equals("KafkaNodePool")) {
                boolean broker = false;
                for (JsonNode role : o.raw().path("spec").path("roles")) {
                    broker |= role.asText().equals("broker");
                }
                if (broker) {
                    brokers.merge(o.raw().path("metadata").path("labels").path("strimzi.io/cluster").asText(),
                            o.raw().path("spec").path("replicas").asInt(0), Integer::sum);
                }
            }
        }
        for (Manifests.Rendered o : objects) {
            if (!o.kind().equals("KafkaTopic")) {
                continue;
            }
            String cluster = o.raw().path("metadata").path("labels").path("strimzi.io/cluster").asText();
            JsonNode kafka = clusters.get(cluster);
            if (kafka == null) {
                problems.add("KafkaTopic " + o.name() + ": no Kafka " + cluster + " (label strimzi.io/cluster)");
                continue;
            }
            JsonNode factor = kafka.path("spec").path("kafka").path("config").path("default.replication.factor");
            JsonNode replicas = o.raw().path("spec").path("replicas");
            if (!factor.canConvertToInt() || !replicas.canConvertToInt()) {
                problems.add("KafkaTopic " + o.name() + ": spec.replicas " + replicas + ", Kafka " + cluster
                        + " default.replication.factor " + factor + ": both must be set");
            } else if (replicas.asInt() != factor.asInt()) {
                problems.add("KafkaTopic " + o.name() + " has " + replicas.asInt() + " replicas, Kafka " + cluster
                        + " default.replication.factor " + factor.asInt());
            } else if (replicas.asInt() > brokers.getOrDefault(cluster, 0)) {
                problems.add("KafkaTopic " + o.name() + " has " + replicas.asInt() + " replicas, Kafka " + cluster
                        + " " + brokers.getOrDefault(cluster, 0) + " brokers");
            }
        }
        return problems;
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void kafkaTopicsAreReplicatedAsTheirClusterDefault(String overlay) {
        assertEquals(List.of(), topicReplicationProblems(KustomizeRenderTest.rendered(overlay)), "k8s/overlays/" + overlay);
    }

    /**
     * ConfigMaps that workloads refer to (envFrom, env valueFrom, volumes) but the render does not
     * contain: a generated ConfigMap's name carries a hash suffix, which differs between kustomize
     * versions, so each render must refer to its own.
     */
    static List<String> missingConfigMaps(List<Manifests.Rendered> objects) {
        Set<String> configMaps = new java.util.HashSet<>(all(objects, ConfigMap.class).stream()
                .map(c -> c.getMetadata().getName()).toList());
        List<String> problems = new ArrayList<>();
        workloads(objects).forEach((workload, template) -> {
            PodSpec pod = template.getSpec();
            List<String> referred = new ArrayList<>();
            List<Container> containers = new ArrayList<>(pod.getContainers());
            if (pod.getInitContainers() != null) {
                containers.addAll(pod.getInitContainers());
            }
            for (Container c : containers) {
                if (c.getEnvFrom() != null) {
                    c.getEnvFrom().stream().filter(e -> e.getConfigMapRef() != null
                            && !Boolean.TRUE.equals(e.getConfigMapRef().getOptional()))
                            .forEach(e -> referred.add(e.getConfigMapRef().getName()));
                }
                if (c.getEnv() != null) {
                    c.getEnv().stream().filter(e -> e.getValueFrom() != null && e.getValueFrom().getConfigMapKeyRef() != null
                            && !Boolean.TRUE.equals(e.getValueFrom().getConfigMapKeyRef().getOptional()))
                            .forEach(e -> referred.add(e.getValueFrom().getConfigMapKeyRef().getName()));
                }
            }
            if (pod.getVolumes() != null) {
                pod.getVolumes().stream().filter(v -> v.getConfigMap() != null && !Boolean.TRUE.equals(v.getConfigMap().getOptional()))
                        .forEach(v -> referred.add(v.getConfigMap().getName()));
                pod.getVolumes().stream().filter(v -> v.getProjected() != null && v.getProjected().getSources() != null)
                        .flatMap(v -> v.getProjected().getSources().stream())
                        .filter(s -> s.getConfigMap() != null && !Boolean.TRUE.equals(s.getConfigMap().getOptional()))
                        .forEach(s -> referred.add(s.getConfigMap().getName()));
            }
            referred.stream().filter(name -> !configMaps.contains(name)).distinct()
                    .forEach(name -> problems.add(workload + ": refers to ConfigMap " + name + ", which is not rendered"));
        });
        return problems;
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void everyConfigMapAWorkloadRefersToIsRendered(String overlay) {
        assertEquals(List.of(), missingConfigMaps(KustomizeRenderTest.rendered(overlay)), "k8s/overlays/" + overlay);
    }
}
