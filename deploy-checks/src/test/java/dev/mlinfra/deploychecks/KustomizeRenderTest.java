package dev.mlinfra.deploychecks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Each overlay renders with kubectl kustomize, and every object it renders is valid for its schema. */
class KustomizeRenderTest {

    static Path kubectlOrSkip() {
        StringBuilder why = new StringBuilder();
        var kubectl = Manifests.kubectl(why);
        Assumptions.assumeTrue(kubectl.isPresent(), () -> "SKIPPED, no kubectl to render k8s/ with: " + why);
        return kubectl.get();
    }

    /**
     * The rendered objects of an overlay. Schema problems are collected into {@code problems}, so
     * that the policy checks report their own findings even where a schema check fails too.
     */
    static List<Manifests.Rendered> rendered(String overlay, List<String> problems) {
        List<Manifests.Rendered> objects = new ArrayList<>();
        for (ObjectNode raw : Manifests.render(kubectlOrSkip(), overlay)) {
            objects.add(Manifests.read(raw, problems));
        }
        return objects;
    }

    /** The rendered objects of an overlay, for the policy checks (schema problems are this class's to report). */
    static List<Manifests.Rendered> rendered(String overlay) {
        return rendered(overlay, new ArrayList<>());
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void everyRenderedObjectParsesStrictlyIntoItsModel(String overlay) {
        List<String> problems = new ArrayList<>();
        List<Manifests.Rendered> objects = rendered(overlay, problems);
        assertEquals(List.of(), problems, "objects of k8s/overlays/" + overlay + " that their schemas reject");
        assertFalse(objects.isEmpty(), "k8s/overlays/" + overlay + " renders nothing");
    }
}
