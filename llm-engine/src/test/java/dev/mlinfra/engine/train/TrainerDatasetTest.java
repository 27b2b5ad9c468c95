package dev.mlinfra.engine.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlinfra.engine.EngineRuntime;
import dev.mlinfra.engine.TestEngine;
import dev.mlinfra.engine.cli.ExitCodes;
import dev.mlinfra.engine.cli.Main;
import dev.mlinfra.engine.data.DatasetReader;
import dev.mlinfra.engine.data.Issue;
import dev.mlinfra.engine.data.PromptTemplate;
import dev.mlinfra.engine.data.PromptTemplateFile;
import dev.mlinfra.engine.model.ModelStore;
import dev.mlinfra.engine.progress.ProgressListener;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The trainer's dataset: labels from the data, skipped records counted, files larger than the heap streamed. */
class TrainerDatasetTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path work;
    private static List<String> sampleLines;

    @BeforeAll
    static void setUp() throws Exception {
        TestEngine.engine();
        work = Files.createTempDirectory("trainer-dataset");
        sampleLines = Files.readAllLines(Paths.get(System.getProperty("mlinfra.root", "../"), "samples", "datasets",
                "gitops-issues.jsonl")).stream().filter(l -> !l.isBlank()).toList();
    }

    private static String spec(Path dataset, Path output, String config) {
        return """
                {"job_id": "dataset-job", "model_type": "scout",
                 "dataset": {"location": "%s"},
                 "config": {%s},
                 "output": "%s", "base_model_dir": "%s"}
                """.formatted(dataset, config, output, TestEngine.targetDir().resolve("models"));
    }

    private static String tinyConfig(boolean lora, int maxSteps) {
        return """
                "learning_rate": 0.005, "batch_size": 4, "use_lora": %s, "max_seq_len": 256, "max_steps": %d,
                "checkpoint_every": 0, "validation_fraction": 0.2, "max_eval_records": 1, "max_new_tokens": 4,
                "eval_base": false, "seed": 3""".formatted(lora, maxSteps);
    }

    private static String withType(String line, String type) throws Exception {
        ObjectNode n = (ObjectNode) JSON.readTree(line);
        n.put("issue_type", type);
        return n.toString();
    }

    private static JsonNode evaluate(String... options) throws Exception {
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        List<String> args = new ArrayList<>(List.of("evaluate", "--models-dir", TestEngine.targetDir().resolve("models").toString(),
                "--max-records", "1", "--max-new-tokens", "4", "--max-seq-len", "128"));
        args.addAll(List.of(options));
        int code = Main.run(args.toArray(String[]::new), new PrintStream(stdout, true), new PrintStream(new ByteArrayOutputStream()));
        assertEquals(ExitCodes.SUCCESS, code);
        return JSON.readTree(stdout.toByteArray());
    }

    @Test
    void issueTypesComeFromTheDataAndSkippedRecordsAreReportedWithTheirReasons() throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            lines.add(withType(sampleLines.get(i), i % 2 == 0 ? "documentation" : "security"));
        }
        for (int i = 24; i < 27; i++) {
            ObjectNode n = (ObjectNode) JSON.readTree(sampleLines.get(i));
            n.remove(List.of("resolution", "trajectory"));
            lines.add(n.toString());
        }
        lines.add("{\"repository\": \"acme/infra\", \"issue_title\": ");
        lines.add("not json at all");
        lines.add(withType(sampleLines.get(27), "Feature Request"));
        Path dataset = work.resolve("labels.jsonl");
        Files.write(dataset, lines);

        Path out = work.resolve("labels-out");
        TrainerTest.Recorder recorder = new TrainerTest.Recorder();
        new Trainer(TrainingSpec.parse(spec(dataset, out, tinyConfig(true, 2)).getBytes(StandardCharsets.UTF_8)), recorder,
                new CancellationToken()).run();

        List<String> labels = List.of("documentation", "security");
        Map<String, Object> started = recorder.started[0];
        assertEquals(labels, started.get("labels"));
        assertEquals(24L, started.get("total_records"));
        assertEquals(24, started.get("sampled_records"));
        assertEquals(6L, started.get("skipped_records"));
        assertEquals(Map.of(Issue.MISSING_STEPS, 3L, DatasetReader.NOT_JSON, 2L, Issue.INVALID_TYPE, 1L),
                started.get("skipped_reasons"));
        @SuppressWarnings("unchecked")
        List<String> examples = (List<String>) started.get("skipped_examples");
        assertEquals(List.of("line 25", "line 26", "line 27", "line 28", "line 29", "line 30"),
                examples.stream().map(e -> e.substring(0, e.indexOf(':'))).toList());
        assertTrue(examples.get(5).contains("Feature Request"), examples.get(5));

        Path adapter = out.resolve("adapter");
        assertEquals(labels, List.of(JSON.convertValue(JSON.readTree(adapter.resolve(ModelStore.ADAPTER_CONFIG).toFile())
                .get(ModelStore.LABELS), String[].class)));
        assertEquals(labels, List.of(JSON.convertValue(JSON.readTree(out.resolve("eval/metrics.json").toFile())
                .get("labels"), String[].class)));
        // The prompt template travels with the adapter and its checkpoint, and renders the prompts training built.
        assertRendersTrainingPrompts(adapter);
        assertRendersTrainingPrompts(out.resolve("checkpoints/step-2"));

        // evaluate: the label set recorded with the adapter, not that of the records evaluated.
        Path documentationOnly = work.resolve("documentation.jsonl");
        Files.write(documentationOnly, List.of(withType(sampleLines.get(40), "documentation")));
        JsonNode metrics = evaluate("--model", "scout", "--adapter", adapter.toString(), "--dataset", documentationOnly.toString());
        assertEquals(labels, List.of(JSON.convertValue(metrics.get("labels"), String[].class)));
        assertEquals(1, metrics.path("num_examples").asInt());
        // Without an adapter that records them, the labels of the records evaluated.
        metrics = evaluate("--model", "scout", "--dataset", documentationOnly.toString());
        assertEquals(List.of("documentation"), List.of(JSON.convertValue(metrics.get("labels"), String[].class)));

        // Full fine-tuning records the label set in the model's config.json.
        Path full = work.resolve("labels-full");
        new Trainer(TrainingSpec.parse(spec(dataset, full, tinyConfig(false, 1)).getBytes(StandardCharsets.UTF_8)),
                ProgressListener.none(), new CancellationToken()).run();
        assertEquals(labels, List.of(JSON.convertValue(JSON.readTree(full.resolve("model/config.json").toFile())
                .get(ModelStore.LABELS), String[].class)));
        assertRendersTrainingPrompts(full.resolve("model"));
        assertRendersTrainingPrompts(full.resolve("checkpoints/step-1"));
        metrics = evaluate("--model", full.resolve("model").toString(), "--dataset", documentationOnly.toString());
        assertEquals(labels, List.of(JSON.convertValue(metrics.get("labels"), String[].class)));
    }

    /** The folder's prompt_template.json, read as serving reads it, renders a user's input as training does. */
    private static void assertRendersTrainingPrompts(Path folder) throws Exception {
        JsonNode file = JSON.readTree(folder.resolve("prompt_template.json").toFile());
        assertEquals("mlinfra-prompt-v1", file.path("format").asText());
        assertEquals(List.of("<|eot|>"), List.of(JSON.convertValue(file.get("stop"), String[].class)));
        PromptTemplateFile template = PromptTemplateFile.read(folder.toString(), null);
        JsonNode record = JSON.readTree(sampleLines.get(0));
        String repository = record.get("repository").asText();
        String title = record.get("issue_title").asText();
        String description = record.get("issue_description").asText() + " {issue_title}";
        assertEquals(PromptTemplate.promptText(repository, title, description), template.render(Map.of(
                "repository", repository, "issue_title", title, "issue_description", description)));
    }

    @Test
    void aRecordWhosePromptLeavesNoRoomForItsAnswerIsLeftOutAndCounted() throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            lines.add(JSON.createObjectNode().put("repository", "a/b").put("issue_title", "t" + i).put("issue_description", "")
                    .put("issue_type", "bug").put("created_at", "2024-01-01").put("resolution", "Restart it.").toString());
        }
        for (int i = 0; i < 3; i++) {
            lines.add(JSON.createObjectNode().put("repository", "kubernetes/kubernetes")
                    .put("issue_title", "A title far too long to leave any room for the answer " + i)
                    .put("issue_description", "").put("issue_type", "bug").put("created_at", "2024-01-01")
                    .put("resolution", "Restart it.").toString());
        }
        Path dataset = work.resolve("no-room.jsonl");
        Files.write(dataset, lines);
        String config = tinyConfig(true, 1).replace("\"max_seq_len\": 256", "\"max_seq_len\": 64")
                .replace("\"validation_fraction\": 0.2", "\"validation_fraction\": 0");
        TrainerTest.Recorder recorder = new TrainerTest.Recorder();
        new Trainer(TrainingSpec.parse(spec(dataset, work.resolve("no-room-out"), config).getBytes(StandardCharsets.UTF_8)),
                recorder, new CancellationToken()).run();
        Map<String, Object> started = recorder.started[0];
        assertEquals(3L, started.get("skipped_records"));
        assertEquals(Map.of("its prompt leaves no room for the answer within max_seq_len 64", 3L), started.get("skipped_reasons"));
        assertEquals(6, started.get("train_examples"));

        Files.write(dataset, lines.subList(6, 9));
        TrainingFailedException none = org.junit.jupiter.api.Assertions.assertThrows(TrainingFailedException.class,
                () -> new Trainer(TrainingSpec.parse(spec(dataset, work.resolve("no-room-none"), config)
                        .getBytes(StandardCharsets.UTF_8)), ProgressListener.none(), new CancellationToken()).run());
        assertTrue(none.getMessage().contains("no training record fits max_seq_len 64"), none.getMessage());
    }

    @Test
    void aDatasetWhoseFileIsGoneFailsTheJobSayingSo() {
        Path gone = work.resolve("deleted-since.jsonl");
        TrainingFailedException e = org.junit.jupiter.api.Assertions.assertThrows(TrainingFailedException.class,
                () -> new Trainer(TrainingSpec.parse(spec(gone, work.resolve("gone-out"), tinyConfig(true, 1))
                        .getBytes(StandardCharsets.UTF_8)), ProgressListener.none(), new CancellationToken()).run());
        assertEquals("the dataset's file " + gone + " is gone: the dataset was deleted (or its file removed) after the job"
                + " was created", e.getMessage());
    }

    @Test
    void aDatasetFileThatDiffersFromTheJobsChecksumFailsTheJobBeforeTraining() throws Exception {
        Path dataset = work.resolve("uploaded-again.jsonl");
        Files.write(dataset, sampleLines.subList(0, 8));
        String created = dev.mlinfra.engine.artifact.Checksums.sha256(dataset);
        String config = tinyConfig(true, 1);
        java.util.function.Function<String, String> pinned = out -> spec(dataset, work.resolve(out), config)
                .replace("\"location\": \"" + dataset + "\"", "\"location\": \"" + dataset + "\", \"sha256\": \"" + created + "\"");
        // the same file: it trains
        new Trainer(TrainingSpec.parse(pinned.apply("same-out").getBytes(StandardCharsets.UTF_8)), ProgressListener.none(),
                new CancellationToken()).run();
        // deleted and uploaded again with other records under the same location: refused before any step
        Files.write(dataset, sampleLines.subList(8, 20));
        TrainingFailedException e = org.junit.jupiter.api.Assertions.assertThrows(TrainingFailedException.class,
                () -> new Trainer(TrainingSpec.parse(pinned.apply("other-out").getBytes(StandardCharsets.UTF_8)),
                        ProgressListener.none(), new CancellationToken()).run());
        assertTrue(e.getMessage().startsWith("the dataset's file " + dataset + " is not the one this job was created for"
                + " (sha256 " + dev.mlinfra.engine.artifact.Checksums.sha256(dataset) + ", the job's dataset had " + created
                + ")"), e.getMessage());
        assertTrue(Files.notExists(work.resolve("other-out").resolve("adapter")), "nothing was trained");
    }

    @Test
    void maxTrainRecordsIsValidatedLikeTheOtherHyperparameters() {
        for (String value : List.of("1", "10000001")) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> TrainingSpec.parse(spec(work, work, "\"max_train_records\": " + value).getBytes(StandardCharsets.UTF_8)));
            assertTrue(e.getMessage().contains("max_train_records"), e.getMessage());
        }
        TrainingSpec spec = TrainingSpec.parse(spec(work, work, "\"max_train_records\": 2").getBytes(StandardCharsets.UTF_8));
        assertEquals(2, spec.hyperparameters().trainRecordLimit());
        assertEquals(50_000, Hyperparameters.defaults().trainRecordLimit());
    }

    // ------------------------------------------------------------------------ a dataset beyond the heap

    private static final int REPETITIONS = 1000;
    private static final String HEAP = "-Xmx160m";

    /**
     * About 300 MB of JSON Lines: the sample dataset over and over, some records with other issue
     * types, and one line per repetition that is not JSON. Returns the usable records it holds.
     */
    private static long writeLargeDataset(Path file) throws Exception {
        List<String> chunk = new ArrayList<>();
        for (int i = 0; i < sampleLines.size(); i++) {
            String line = sampleLines.get(i);
            chunk.add(i % 7 == 0 ? withType(line, "documentation") : i % 11 == 0 ? withType(line, "ci-failure") : line);
        }
        chunk.add("{\"repository\": \"acme/infra\", \"issue_title\": \"cut off");
        byte[] bytes = (String.join("\n", chunk) + "\n").getBytes(StandardCharsets.UTF_8);
        // Every sample record is usable; the cut-off line is not.
        DatasetReader.Dataset check = DatasetReader.parse((String.join("\n", sampleLines) + "\n").getBytes(StandardCharsets.UTF_8), "jsonl");
        assertEquals(List.of(), check.skipped());
        if (!Files.isRegularFile(file) || Files.size(file) != (long) bytes.length * REPETITIONS) {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
                for (int r = 0; r < REPETITIONS; r++) {
                    out.write(bytes);
                }
            }
        }
        return (long) check.records().size() * REPETITIONS;
    }

    @Test
    void aTrainerProcessStreamsADatasetAboveItsHeapAndTrainsOnASample() throws Exception {
        Path dataset = TestEngine.targetDir().resolve("large-dataset.jsonl");
        long usable = writeLargeDataset(dataset);
        long heap = 160L * 1024 * 1024;
        assertTrue(Files.size(dataset) > 1.8 * heap, "the dataset (" + Files.size(dataset) + " bytes) is well above the heap");

        Path out = work.resolve("large-out");
        Path specFile = work.resolve("large.json");
        Files.writeString(specFile, spec(dataset, out, tinyConfig(true, 2) + ", \"max_train_records\": 64"));
        Path stderr = work.resolve("large.stderr");
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, HEAP, "--enable-native-access=ALL-UNNAMED",
                "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"),
                "-D" + EngineRuntime.CACHE_DIR_PROPERTY + "=" + System.getProperty(EngineRuntime.CACHE_DIR_PROPERTY),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "train", "--spec", specFile.toString());
        pb.redirectError(stderr.toFile());
        Process process = pb.start();
        List<JsonNode> events = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                events.add(JSON.readTree(line));
            }
        }
        assertTrue(process.waitFor(120, TimeUnit.SECONDS));
        String log = Files.readString(stderr);
        assertEquals(ExitCodes.SUCCESS, process.exitValue(), "exit code; stderr:\n" + log.substring(Math.max(0, log.length() - 3000)));

        JsonNode started = events.stream().filter(e -> e.path("event").asText().equals("started")).findFirst().orElseThrow();
        assertEquals(usable, started.path("total_records").asLong());
        assertEquals(64, started.path("sampled_records").asInt());
        assertEquals(64, started.path("train_examples").asInt() + started.path("validation_examples").asInt());
        assertEquals(REPETITIONS, started.path("skipped_records").asLong());
        assertEquals(REPETITIONS, started.path("skipped_reasons").path(DatasetReader.NOT_JSON).asLong());
        List<String> labels = List.of(JSON.convertValue(started.get("labels"), String[].class));
        assertTrue(Set.of("bug", "feature", "question", "documentation", "ci-failure").containsAll(labels), labels.toString());
        assertEquals(labels.stream().sorted().toList(), labels);
        assertTrue(labels.size() >= 3, "a sample of 64 from the whole file holds most issue types: " + labels);
        assertEquals("completed", events.get(events.size() - 1).path("event").asText());
        assertTrue(Files.isRegularFile(out.resolve("adapter/" + ModelStore.ADAPTER_WEIGHTS)));
    }
}
