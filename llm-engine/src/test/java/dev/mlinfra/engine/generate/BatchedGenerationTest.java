package dev.mlinfra.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.mlinfra.engine.TestEngine;
import dev.mlinfra.engine.model.LlamaModel;
import dev.mlinfra.engine.model.LoraAdapter;
import dev.mlinfra.engine.model.LoraConfig;
import dev.mlinfra.engine.model.ModelConfig;
import dev.mlinfra.engine.tokenizer.ByteTokenizer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Sequences decoded together by {@link Generator#step}, joining and leaving at different steps,
 * with different adapters and sampling settings, generate exactly what each generates alone.
 */
class BatchedGenerationTest {

    private static NDManager root;
    private static LlamaModel model;
    private static LoraAdapter adapter;
    private static final ByteTokenizer TOKENIZER = new ByteTokenizer();

    @BeforeAll
    static void setUp() {
        TestEngine.engine();
        root = NDManager.newBaseManager();
        ModelConfig config = ModelConfig.builtin("scout");
        model = LlamaModel.fromTensors(config, LlamaModel.initialWeights(config), root, DataType.FLOAT32);
        adapter = LoraAdapter.create(model, new LoraConfig(4, 8, 0, null, List.of("lm_head")), 3);
        for (NDArray p : adapter.parameters().values()) {
            p.addi(p.getManager().randomNormal(0, 0.05f, p.getShape(), p.getDataType()));
        }
    }

    @AfterAll
    static void tearDown() {
        adapter.close();
        model.close();
        root.close();
    }

    private record Request(String prompt, LoraAdapter adapter, SamplingParams params, int joinsAtStep) {
    }

    @Test
    void sequencesDecodedTogetherGenerateWhatEachGeneratesAlone() {
        List<Request> requests = List.of(
                new Request("Title: Sync fails", null, SamplingParams.greedy(24), 0),
                new Request("Title: Pod restarts", adapter, SamplingParams.greedy(30), 0),
                new Request("Title: Pod restarts", adapter, new SamplingParams(0.9, 0.95, 40, 28, List.of(), 7L), 0),
                new Request("Title: Sync fails", null, new SamplingParams(1.2, 1, -1, 26, List.of(), 11L), 2),
                new Request("Title: Disk full", adapter, new SamplingParams(0.7, 0.8, -1, 20, List.of("e "), 5L), 5),
                new Request("Title: OOM killed", null, SamplingParams.greedy(6), 9),
                new Request("Title: OOM killed", adapter, new SamplingParams(1, 1, 10, 30, List.of(), 123L), 3));
        Generator generator = new Generator(model, TOKENIZER);
        List<String> alone = new ArrayList<>();
        for (Request r : requests) {
            alone.add(generator.generate(TOKENIZER.encodeWithSpecials("<|begin_of_text|>" + r.prompt()), r.adapter(),
                    r.params()).text());
        }

        StringBuilder[] streamed = new StringBuilder[requests.size()];
        Generator.Sequence[] sequences = new Generator.Sequence[requests.size()];
        List<Generator.Sequence> running = new ArrayList<>();
        int peak = 0;
        for (int step = 0; step < 200 && (running.size() > 0 || step <= 9); step++) {
            for (int i = 0; i < requests.size(); i++) {
                Request r = requests.get(i);
                if (r.joinsAtStep() == step) {
                    StringBuilder out = new StringBuilder();
                    streamed[i] = out;
                    sequences[i] = generator.start(TOKENIZER.encodeWithSpecials("<|begin_of_text|>" + r.prompt()),
                            r.adapter(), r.params(), out::append);
                    running.add(sequences[i]);
                }
            }
            peak = Math.max(peak, running.size());
            generator.step(running);
            running.removeIf(Generator.Sequence::finished);
        }
        assertTrue(peak >= 5, "several sequences decoded together, at most " + peak);
        for (int i = 0; i < requests.size(); i++) {
            GenerationResult together = sequences[i].result();
            assertEquals(alone.get(i), together.text(), "request " + i + " generates what it generates alone");
            assertEquals(together.text(), streamed[i].toString(), "request " + i + " streams its text");
            sequences[i].close();
        }
        assertNotEquals(alone.get(0), alone.get(3), "seeded sampling differs from greedy on the same prompt");
    }
}
