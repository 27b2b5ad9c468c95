package dev.mlinfra.commons.http;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Path templates as the patterns the allowed methods are looked up by. */
class AllowedMethodsTest {

    @Test
    void eachParameterIsOneSegment() {
        var stage = AllowedMethods.pattern("/v1/models" + "/" + "{model_id}/stage");
        assertTrue(stage.matcher("/v1/models/gitops-scout/stage").matches());
        assertFalse(stage.matcher("/v1/models/a/b/stage").matches());
        assertFalse(stage.matcher("/v1/models/gitops-scout").matches());
        var root = AllowedMethods.pattern("/v1/datasets" + "/" + "");
        assertTrue(root.matcher("/v1/datasets").matches());
        assertFalse(root.matcher("/v1/datasets/x").matches());
        // regex characters of a path are taken as they are
        assertFalse(AllowedMethods.pattern("/v1/a.b").matcher("/v1/aXb").matches());
    }
}
