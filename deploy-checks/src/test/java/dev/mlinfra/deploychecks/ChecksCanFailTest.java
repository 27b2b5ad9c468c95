package dev.mlinfra.deploychecks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checkers themselves: each rejects what it is there to reject. */
class ChecksCanFailTest {

    @TempDir
    Path dir;

    private List<String> dockerfileProblems(String text, boolean serves) throws IOException {
        Path file = dir.resolve("Dockerfile");
        Files.writeString(file, text);
        return Dockerfiles.problems(file, dir, serves);
    }

    @Test
    void aDockerfileThatBreaksEveryRuleIsRejectedForEach() throws IOException {
        List<String> problems = dockerfileProblems("""
                FROM eclipse-temurin:latest
                ENV DB_PASSWORD=hunter2 \\
                    OTHER=1
                ARG API_TOKEN=abc
                COPY target/quarkus-app/lib/ /deployments/lib/
                """, true);
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("FROM eclipse-temurin:latest")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("DB_PASSWORD")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("API_TOKEN")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("target/quarkus-app/lib/")), problems.toString());
        assertTrue(problems.contains("no USER: the image would run as root"), problems.toString());
        assertTrue(problems.contains("no HEALTHCHECK"), problems.toString());
    }

    @Test
    void rootUsersNamedUsersAndUnprobedServersAreRejected() throws IOException {
        assertTrue(dockerfileProblems("FROM a:1.2\nUSER 0\nHEALTHCHECK CMD true\n", true).get(0).contains("runs as root"));
        assertTrue(dockerfileProblems("FROM a:1.2\nUSER app\nHEALTHCHECK CMD true\n", true).get(0).contains("numeric uid"));
        assertEquals(List.of("HEALTHCHECK NONE in the image of a server: probe its health endpoint"),
                dockerfileProblems("FROM a:1.2\nUSER 10001\nHEALTHCHECK NONE\n", true));
        assertEquals(List.of(), dockerfileProblems("FROM a:1.2\nUSER 10001\nHEALTHCHECK NONE\n", false));
    }

    @Test
    void onlyExactTagsAndDigestsArePinned() {
        assertNull(Dockerfiles.unpinned("eclipse-temurin:25.0.1_8-jre-noble"));
        assertNull(Dockerfiles.unpinned("apache/kafka:4.1.2"));
        assertNull(Dockerfiles.unpinned("minio/minio:RELEASE.2025-04-22T22-12-26Z"));
        assertNull(Dockerfiles.unpinned("busybox@sha256:" + "a".repeat(64)));
        assertTrue(Dockerfiles.unpinned("mlinfra/gateway") != null);
        assertTrue(Dockerfiles.unpinned("registry:5000/mlinfra/gateway") != null);
        assertTrue(Dockerfiles.unpinned("postgres:17") != null);
        assertTrue(Dockerfiles.unpinned("postgres:latest") != null);
        assertTrue(Dockerfiles.unpinned("eclipse-temurin:25-jre") != null);
    }

    @Test
    void anUnknownFieldInABuiltInKindIsRejectedWhereverItIs() {
        ObjectNode deployment = (ObjectNode) Manifests.readAll("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: x}
                spec:
                  selector: {matchLabels: {a: b}}
                  template:
                    metadata: {labels: {a: b}}
                    spec:
                      containers:
                        - name: x
                          image: x:1.0
                          livenessProbe: {httpGet: {path: /q/health/live, port: management}, periodSecond: 5}
                """).get(0);
        List<String> problems = new ArrayList<>();
        Manifests.read(deployment, problems);
        assertEquals(List.of("apps/v1/Deployment x: unknown field .spec.template.spec.containers[0].livenessProbe.periodSecond"),
                problems);
    }

    @Test
    void anUnknownFieldInACustomResourceAndAnUnknownKindAreRejected() {
        List<String> problems = new ArrayList<>();
        Manifests.read((ObjectNode) Manifests.readAll("""
                apiVersion: kafka.strimzi.io/v1
                kind: Kafka
                metadata: {name: k, labels: {any: thing}}
                spec:
                  kafka:
                    replicas: 3
                    config: {any.key: 1}
                    listeners: [{name: plain, port: 9092, type: internal, tls: false, tlss: true}]
                """).get(0), problems);
        Manifests.read((ObjectNode) Manifests.readAll("apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: p}\n").get(0), problems);
        assertEquals(List.of(
                "kafka.strimzi.io/v1/Kafka k: field spec.kafka.replicas is not in the Kafka CRD",
                "kafka.strimzi.io/v1/Kafka k: field spec.kafka.listeners[].tlss is not in the Kafka CRD",
                "policy/v1beta1/PodDisruptionBudget p: a kind these checks do not know; add its model or CRD field list"),
                problems);
    }

    @Test
    void theModuleScanFindsANewApplication() throws IOException {
        // the scan reads the root pom's modules; a module counts as an application by its pom and properties
        assertTrue(Repo.modules().contains("gateway"));
        assertTrue(Repo.isApplication("gateway"));
        assertTrue(!Repo.isApplication("commons") && !Repo.isApplication("llm-engine"));
    }

    private static List<Manifests.Rendered> objects(String yaml) {
        List<String> ignored = new ArrayList<>();
        return Manifests.readAll(yaml).stream().map(o -> Manifests.read(o, ignored)).toList();
    }

    @Test
    void objectsAndTemplatesWithoutThePartOfLabelAreRejected() {
        List<String> problems = ManifestPolicyTest.notPartOfMlinfra(objects("""
                apiVersion: apps/v1
                kind: StatefulSet
                metadata: {name: s, labels: {app.kubernetes.io/part-of: mlinfra}}
                spec:
                  selector: {matchLabels: {a: b}}
                  template:
                    metadata: {labels: {a: b}}
                    spec: {containers: [{name: c, image: "c:1.0"}]}
                  volumeClaimTemplates:
                    - metadata: {name: data, labels: {app.kubernetes.io/part-of: other}}
                ---
                apiVersion: v1
                kind: ServiceAccount
                metadata: {name: a}
                """));
        assertEquals(List.of(
                "StatefulSet s pod template: no label app.kubernetes.io/part-of: mlinfra",
                "StatefulSet s volume claim template data: no label app.kubernetes.io/part-of: mlinfra",
                "ServiceAccount a: no label app.kubernetes.io/part-of: mlinfra"), problems);
    }

    @Test
    void topicsReplicatedOtherwiseThanTheirClusterAreRejected() {
        String cluster = """
                apiVersion: kafka.strimzi.io/v1
                kind: KafkaNodePool
                metadata: {name: pool, labels: {strimzi.io/cluster: k}}
                spec: {replicas: 3, roles: [controller, broker]}
                ---
                apiVersion: kafka.strimzi.io/v1
                kind: Kafka
                metadata: {name: k}
                spec: {kafka: {config: {default.replication.factor: 3}}}
                ---
                """;
        String topic = """
                apiVersion: kafka.strimzi.io/v1
                kind: KafkaTopic
                metadata: {name: %s, labels: {strimzi.io/cluster: %s}}
                spec: {replicas: %d}
                ---
                """;
        assertEquals(List.of(), ManifestPolicyTest.topicReplicationProblems(objects(cluster + topic.formatted("t", "k", 3))));
        assertEquals(List.of(
                "KafkaTopic one has 1 replicas, Kafka k default.replication.factor 3",
                "KafkaTopic elsewhere: no Kafka other (label strimzi.io/cluster)"),
                ManifestPolicyTest.topicReplicationProblems(objects(cluster + topic.formatted("one", "k", 1)
                        + topic.formatted("elsewhere", "other", 3))));
        assertEquals(List.of("KafkaTopic t has 3 replicas, Kafka k 1 brokers"), ManifestPolicyTest.topicReplicationProblems(
                objects(cluster.replace("replicas: 3", "replicas: 1") + topic.formatted("t", "k", 3))));
    }

    @Test
    void aReferenceToAConfigMapThatIsNotRenderedIsRejected() {
        List<String> problems = ManifestPolicyTest.missingConfigMaps(objects("""
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: settings-abc}
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: d}
                spec:
                  selector: {matchLabels: {a: b}}
                  template:
                    metadata: {labels: {a: b}}
                    spec:
                      containers:
                        - name: c
                          image: c:1.0
                          envFrom: [{configMapRef: {name: settings-abc}}, {configMapRef: {name: settings}}]
                      volumes: [{name: v, configMap: {name: files}}, {name: w, configMap: {name: maybe, optional: true}}]
                """));
        assertEquals(List.of("Deployment d: refers to ConfigMap settings, which is not rendered",
                "Deployment d: refers to ConfigMap files, which is not rendered"), problems);
    }

    @Test
    void aChosenKubectlMustBeExecutable() throws IOException {
        assertEquals(java.util.Optional.empty(), Manifests.chosenKubectl(null, " "));
        Path fake = Files.writeString(dir.resolve("kubectl"), "#!/bin/sh\n");
        assertThrows(AssertionError.class, () -> Manifests.chosenKubectl(fake.toString(), null));
        assertThrows(AssertionError.class, () -> Manifests.chosenKubectl(null, dir.resolve("missing").toString()));
        assertTrue(fake.toFile().setExecutable(true));
        assertEquals(java.util.Optional.of(fake), Manifests.chosenKubectl(fake.toString(), "/elsewhere/kubectl"));
        assertEquals(java.util.Optional.of(fake), Manifests.chosenKubectl("", fake.toString()));
    }
}
