package dev.mlinfra.engine.progress;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.util.Map;

/**
 * Writes one JSON object per line: {@code {"event":"step", ...StepReport fields}} for steps and
 * {@code {"event":"<name>", ...details}} for milestones. The local training backend reads these
 * from the trainer's stdout.
 */
public final class JsonLinesListener implements ProgressListener {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final PrintStream out;

    public JsonLinesListener(PrintStream out) {
        this.out = out;
    }

    @Override
    public void onStep(StepReport report) {
        ObjectNode n = JSON.createObjectNode().put("event", "step");
        n.setAll((ObjectNode) JSON.valueToTree(report));
        print(n);
    }

    @Override
    public void onEvent(String event, Map<String, Object> details) {
        ObjectNode n = JSON.createObjectNode().put("event", event);
        n.setAll((ObjectNode) JSON.valueToTree(details));
        print(n);
    }

    private synchronized void print(ObjectNode n) {
        out.println(n.toString());
        out.flush();
    }
}
