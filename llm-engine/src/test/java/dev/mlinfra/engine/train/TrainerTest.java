package dev.mlinfra.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.engine.TestEngine;
import dev.mlinfra.engine.cli.ExitCodes;
import dev.mlinfra.engine.cli.Main;
import dev.mlinfra.engine.model.ModelStore;
import dev.mlinfra.engine.progress.ProgressListener;
import dev.mlinfra.engine.progress.StepReport;
import dev.mlinfra.engine.safetensors.Safetensors;
import dev.mlinfra.engine.safetensors.Tensor;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Short real training runs on a slice of the sample dataset. */
class TrainerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path work;
    private static Path dataset;

    @BeforeAll
    static void setUp() throws Exception {
        TestEngine.engine();
        work = Files.createTempDirectory("trainer");
        Path sample = Paths.get(System.getProperty("mlinfra.root", "../"), "samples", "datasets", "gitops-issues.jsonl");
        List<String> lines = Files.readAllLines(sample);
        dataset = work.resolve("slice.jsonl");
        Files.write(dataset, lines.subList(0, Math.min(48, lines.size())));
    }

    private static String spec(String output, String config) {
        return """
                {"job_id": "test-job", "model_type": "scout",
                 "dataset": {"location": "%s", "format": "jsonl"},
                 "config": {%s},
                 "output": "%s", "base_model_dir": "%s"}
                """.formatted(dataset, config, output, TestEngine.targetDir().resolve("models"));
    }

    /** Records step reports and events. */
    static class Recorder implements ProgressListener {
        final List<StepReport> steps = new ArrayList<>();
        final List<String> events = new ArrayList<>();
        final Map<String, Object>[] started = new Map[1];

        @Override
        public void onStep(StepReport report) {
            steps.add(report);
        }

        @Override
        public void onEvent(String event, Map<String, Object> details) {
            events.add(event);
            if (event.equals("started")) {
                started[0] = details;
            }
        }
    }

    @Test
    void loraFineTuningLowersTheLossAndBeatsTheBaseModel() throws Exception {
        Path out = work.resolve("learn");
        TrainingSpec spec = TrainingSpec.parse(spec(out.toString(), """
                "learning_rate": 0.004, "batch_size": 8, "epochs": 12, "use_lora": true, "lora_r": 16, "lora_alpha": 32,
                "lora_dropout": 0.0, "max_seq_len": 256, "validation_fraction": 0.1, "max_new_tokens": 96,
                "checkpoint_every": 0, "seed": 7""").getBytes(StandardCharsets.UTF_8));
        Recorder recorder = new Recorder();
        Trainer.Result result = new Trainer(spec, recorder, new CancellationToken()).run();

        List<StepReport> steps = recorder.steps;
        assertEquals(result.steps(), steps.size());
        double first = steps.subList(0, 3).stream().mapToDouble(StepReport::loss).average().orElseThrow();
        double last = steps.subList(steps.size() - 3, steps.size()).stream().mapToDouble(StepReport::loss).average().orElseThrow();
        assertTrue(last < first * 0.75, "loss falls: first " + first + ", last " + last);
        StepReport s = steps.get(steps.size() - 1);
        assertEquals("test-job", s.jobId());
        assertEquals(12, s.epoch());
        assertEquals(s.totalSteps(), s.step());
        assertTrue(s.tokensPerSecond() > 0 && s.learningRate() > 0);
        // after the last step the evaluation is announced (it can take minutes), then its scores
        assertEquals(List.of("evaluating", "evaluation", "completed"),
                recorder.events.subList(recorder.events.size() - 3, recorder.events.size()), recorder.events.toString());

        JsonNode metrics = JSON.readTree(out.resolve("eval/metrics.json").toFile());
        JsonNode base = metrics.path("base");
        assertTrue(metrics.path("eval_loss").asDouble() < base.path("eval_loss").asDouble(), metrics.toString());
        double gain = 0;
        for (String metric : List.of("accuracy", "f1", "trajectory_similarity")) {
            double delta = metrics.path(metric).asDouble() - base.path(metric).asDouble();
            assertTrue(delta >= 0, metric + " is not worse than the base: " + metrics);
            gain += delta;
        }
        assertTrue(gain > 0, "the trained model beats the base on the generation metrics: " + metrics);

        Path adapter = out.resolve("adapter");
        JsonNode adapterConfig = JSON.readTree(adapter.resolve("adapter_config.json").toFile());
        assertEquals("LORA", adapterConfig.path("peft_type").asText());
        assertEquals(16, adapterConfig.path("r").asInt());
        Map<String, Tensor> tensors = Safetensors.read(adapter.resolve("adapter_model.safetensors")).tensors();
        assertTrue(tensors.containsKey("base_model.model.lm_head.weight"), "modules_to_save are saved with the adapter");
        assertArrayEquals(new long[] {16, 256},
                tensors.get("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").shape());
        assertTrue(Files.isRegularFile(adapter.resolve("config.json")));
        assertTrue(Files.isRegularFile(adapter.resolve("tokenizer.json")));
        assertTrue(Files.isRegularFile(out.resolve("checkpoints/step-" + result.steps() + "/trainer_state.json")));
    }

    private static String tinyConfig(boolean lora) {
        return """
                "learning_rate": 0.005, "batch_size": 4, "epochs": 2, "use_lora": %s, "lora_dropout": 0.1,
                "max_seq_len": 160, "max_steps": 6, "checkpoint_every": 2, "max_eval_records": 1,
                "max_new_tokens": 4, "eval_base": false, "seed": 3""".formatted(lora);
    }

    @Test
    void aCancelDuringEvaluationStopsItWithTheLastStepCheckpointed() throws Exception {
        Path out = work.resolve("cancelled-in-evaluation");
        CancellationToken cancellation = new CancellationToken();
        Recorder recorder = new Recorder() {
            @Override
            public void onStep(StepReport report) {
                super.onStep(report);
                if (report.step() == report.totalSteps()) {
                    cancellation.cancel(); // after the last step: the trainer goes on to checkpoint and evaluate
                }
            }
        };
        String config = tinyConfig(true).replace("\"max_eval_records\": 1", "\"max_eval_records\": 8")
                .replace("\"eval_base\": false", "\"eval_base\": true");
        TrainingCancelledException e = assertThrows(TrainingCancelledException.class, () -> new Trainer(
                TrainingSpec.parse(spec(out.toString(), config).getBytes(StandardCharsets.UTF_8)), recorder, cancellation).run());
        assertEquals(6, e.step());
        assertEquals("cancelled during evaluation, after step 6", e.getMessage());
        // 2 epochs asked for, but max_steps (6) ends the job within the first (11 steps): the reports say 1 of 1
        assertTrue(recorder.steps.stream().allMatch(r -> r.epoch() == 1 && r.totalEpochs() == 1), recorder.steps.toString());
        assertTrue(Files.isRegularFile(out.resolve("checkpoints/step-6/trainer_state.json")));
        assertFalse(Files.exists(out.resolve("eval/metrics.json")), "no evaluation was finished");
        assertFalse(recorder.events.contains("evaluation") || recorder.events.contains("completed"), recorder.events.toString());
    }

    @Test
    void sigtermStopsAtAStepBoundaryAndTheJobResumesToTheSameResult() throws Exception {
        // Uninterrupted reference run.
        Path reference = work.resolve("reference");
        new Trainer(TrainingSpec.parse(spec(reference.toString(), tinyConfig(true)).getBytes(StandardCharsets.UTF_8)),
                ProgressListener.none(), new CancellationToken()).run();

        // The same job as a separate process, terminated after its third step.
        Path resumed = work.resolve("resumed");
        Path specFile = work.resolve("job.json");
        Files.writeString(specFile, spec(resumed.toString(), tinyConfig(true)));
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"),
                "-D" + dev.mlinfra.engine.EngineRuntime.CACHE_DIR_PROPERTY + "=" + System.getProperty(dev.mlinfra.engine.EngineRuntime.CACHE_DIR_PROPERTY),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "train", "--spec", specFile.toString());
        pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        Process process = pb.start();
        List<JsonNode> lines = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                JsonNode n = JSON.readTree(line);
                lines.add(n);
                if (n.path("event").asText().equals("step") && n.path("step").asInt() == 3) {
                    process.toHandle().destroy(); // SIGTERM; Process.destroy() would also close our pipe
                }
            }
        }
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(ExitCodes.CANCELLED, process.exitValue());
        JsonNode last = lines.get(lines.size() - 1);
        assertEquals("cancelled", last.path("event").asText());
        int stoppedAt = last.path("step").asInt();
        assertTrue(stoppedAt >= 3 && stoppedAt < 6, "stopped at a step boundary before the end: " + stoppedAt);
        assertTrue(Files.isRegularFile(resumed.resolve("checkpoints/step-" + stoppedAt + "/trainer_state.json")));
        assertTrue(Files.notExists(resumed.resolve("adapter")));

        // Restarted with the same output location: resumes, and ends where the reference ended.
        Recorder recorder = new Recorder();
        new Trainer(TrainingSpec.parse(Files.readAllBytes(specFile)), recorder, new CancellationToken()).run();
        assertEquals(stoppedAt, ((Number) recorder.started[0].get("resumed_from_step")).intValue());
        assertEquals(stoppedAt + 1, recorder.steps.get(0).step());
        Map<String, Tensor> a = Safetensors.read(reference.resolve("adapter/" + ModelStore.ADAPTER_WEIGHTS)).tensors();
        Map<String, Tensor> b = Safetensors.read(resumed.resolve("adapter/" + ModelStore.ADAPTER_WEIGHTS)).tensors();
        assertEquals(a.keySet(), b.keySet());
        for (String name : a.keySet()) {
            assertArrayEquals(a.get(name).toFloats(), b.get(name).toFloats(), 1e-4f, name);
        }
    }

    @Test
    void fullFineTuningWritesModelWeightsAndTheCliReportsJsonLines() throws Exception {
        Path out = work.resolve("full");
        Path specFile = work.resolve("full.json");
        Files.writeString(specFile, spec(out.toString(), tinyConfig(false).replace("\"max_steps\": 6", "\"max_steps\": 2")));
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"train", "--spec", specFile.toString()}, new PrintStream(stdout, true),
                new PrintStream(new ByteArrayOutputStream()));
        assertEquals(ExitCodes.SUCCESS, code);
        List<String> lines = stdout.toString(StandardCharsets.UTF_8).lines().toList();
        JsonNode step = JSON.readTree(lines.stream().filter(l -> l.contains("\"event\":\"step\"")).findFirst().orElseThrow());
        for (String field : List.of("job_id", "epoch", "total_epochs", "step", "total_steps", "loss", "learning_rate",
                "tokens_per_second", "time")) {
            assertTrue(step.has(field), "step report has " + field);
        }
        assertEquals("completed", JSON.readTree(lines.get(lines.size() - 1)).path("event").asText());
        Map<String, Tensor> weights = Safetensors.read(out.resolve("model/model.safetensors")).tensors();
        assertTrue(weights.containsKey("model.layers.1.feed_forward.experts.gate_up_proj"));
        assertTrue(Files.isRegularFile(out.resolve("eval/metrics.json")));
    }

    @Test
    void invalidSpecsAreRejectedWithTheFieldNamed() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainingSpec.parse(
                spec("x", "\"learning_rat\": 0.1").getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains("learning_rat"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainingSpec.parse(
                spec("x", "\"lora_r\": 0").getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains("lora_r"), e.getMessage());
        Path specFile = work.resolve("bad.json");
        Files.writeString(specFile, spec("x", "\"batch_size\": 0"));
        assertEquals(ExitCodes.USAGE, Main.run(new String[] {"train", "--spec", specFile.toString()},
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(new ByteArrayOutputStream())));
    }
}
