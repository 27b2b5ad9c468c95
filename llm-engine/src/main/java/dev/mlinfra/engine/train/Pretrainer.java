package dev.mlinfra.engine.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.mlinfra.engine.EngineRuntime;
import dev.mlinfra.engine.artifact.Checksums;
import dev.mlinfra.engine.corpus.CorpusBuilder;
import dev.mlinfra.engine.data.PromptTemplate.Example;
import dev.mlinfra.engine.model.LlamaModel;
import dev.mlinfra.engine.model.ModelConfig;
import dev.mlinfra.engine.model.ModelStore;
import dev.mlinfra.engine.safetensors.Safetensors;
import dev.mlinfra.engine.safetensors.Tensor;
import dev.mlinfra.engine.tokenizer.ByteTokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Next-token pretraining of a miniature from its seeded initialisation on a corpus built by
 * {@link CorpusBuilder}: every document becomes {@code <|begin_of_text|> bytes <|end_of_text|>},
 * the documents of an epoch are shuffled (seeded) and packed into windows of {@code seq_len + 1}
 * tokens, and every token is a target. All weights are trained (AdamW, warmup then cosine decay,
 * global-norm clipping). The result is a base in Hugging Face layout, stored as bfloat16, whose
 * config names it ({@code mlinfra_base}) and holds its checksum, with {@value #RECIPE}: how to
 * reproduce it and what it measured (perplexity on the held-out documents, of the stored weights).
 */
public final class Pretrainer {

    public static final String RECIPE = "pretraining.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * @param modelType  scout or maverick
     * @param baseName   the name the base gets ({@code mlinfra_base}), e.g. {@code pretrained-v1}
     * @param corpusDir  the folder {@link CorpusBuilder} wrote
     * @param manifest   the corpus manifest the corpus was built from (its checksum is recorded)
     * @param output     where the base is written
     * @param tokens     tokens to train on (rounded down to whole steps)
     * @param warmupRatio fraction of the steps spent warming up
     * @param threads    PyTorch threads (0: one per core)
     * @param command    the command line, recorded in the recipe
     */
    public record Settings(String modelType, String baseName, Path corpusDir, Path manifest, Path output, long seed,
            long tokens, int seqLen, int batch, double learningRate, double minLrRatio, double warmupRatio,
            double weightDecay, double gradClip, int threads, int logEvery, String command) {
    }

    private final Settings s;
    private final PrintStream out;

    public Pretrainer(Settings settings, PrintStream out) {
        this.s = settings;
        this.out = out;
    }

    /** Trains, writes the base and its recipe, and returns the recipe. */
    public Map<String, Object> run() throws IOException {
        long started = System.nanoTime();
        Engine engine = EngineRuntime.engine(s.threads());
        ByteTokenizer tokenizer = new ByteTokenizer();
        List<int[]> train = new ArrayList<>();
        List<int[]> heldout = new ArrayList<>();
        long trainBytes = readCorpus(tokenizer, train, heldout);
        ModelConfig seeded = ModelConfig.builtin(s.modelType()).seeded();
        int tokensPerStep = s.batch() * s.seqLen();
        int totalSteps = (int) Math.max(1, s.tokens() / tokensPerStep);
        LrSchedule schedule = new LrSchedule(s.learningRate(), (int) Math.round(totalSteps * s.warmupRatio()), totalSteps,
                s.minLrRatio());
        int pad = seeded.padTokenId();
        Map<String, Object> recipe = new LinkedHashMap<>();
        try (NDManager root = NDManager.newBaseManager();
             LlamaModel model = LlamaModel.fromTensors(seeded, LlamaModel.initialWeights(seeded), root, DataType.FLOAT32);
             AdamW optimizer = new AdamW(root, s.weightDecay())) {
            double initialPerplexity = perplexity(model, windows(heldout, -1), pad);
            Map<String, NDArray> params = model.weights();
            params.values().forEach(p -> p.setRequiresGradient(true));
            int epoch = 0;
            List<int[]> windows = windows(train, epoch);
            int cursor = 0;
            double loss = Double.NaN;
            double recent = 0;
            int recentCount = 0;
            long tick = System.nanoTime();
            for (int step = 1; step <= totalSteps; step++) {
                List<Example> examples = new ArrayList<>(s.batch());
                while (examples.size() < s.batch()) {
                    if (cursor == windows.size()) {
                        windows = windows(train, ++epoch);
                        cursor = 0;
                    }
                    examples.add(new Example(windows.get(cursor++), 1));
                }
                double lr = schedule.at(step);
                engine.setRandomSeed((int) (s.seed() * 1_000_003L + step));
                loss = Trainer.trainStep(engine, model, null, Batch.of(examples, pad), params, optimizer, lr, step, s.gradClip());
                recent += loss;
                recentCount++;
                if (step % s.logEvery() == 0 || step == totalSteps) {
                    double seconds = (System.nanoTime() - tick) / 1e9;
                    Map<String, Object> line = new LinkedHashMap<>();
                    line.put("event", "step");
                    line.put("model_type", s.modelType());
                    line.put("step", step);
                    line.put("total_steps", totalSteps);
                    line.put("epoch", epoch + (double) cursor / windows.size());
                    line.put("loss", recent / recentCount);
                    line.put("learning_rate", lr);
                    line.put("tokens_per_second", recentCount * tokensPerStep / seconds);
                    line.put("elapsed_seconds", (System.nanoTime() - started) / 1e9);
                    out.println(new ObjectMapper().writeValueAsString(line));
                    out.flush();
                    recent = 0;
                    recentCount = 0;
                    tick = System.nanoTime();
                }
            }
            params.values().forEach(p -> p.setRequiresGradient(false));
            double trainingSeconds = (System.nanoTime() - started) / 1e9;

            Files.createDirectories(s.output());
            Map<String, Tensor> stored = new LinkedHashMap<>();
            model.weights().forEach((name, w) -> stored.put(name, Tensor.ofBf16(w.getShape().getShape(), w.toFloatArray())));
            Path weights = s.output().resolve(ModelStore.WEIGHTS);
            Safetensors.write(weights, stored, Map.of("format", "pt", ModelStore.BASE, s.baseName()));
            String sha = Checksums.sha256(weights);
            ModelConfig config = ModelConfig.builtin(s.modelType()).withBase(s.baseName(), sha);
            config.write(s.output().resolve(ModelStore.CONFIG));
            tokenizer.write(s.output().resolve(ModelStore.TOKENIZER));

            double heldoutPerplexity;
            try (NDManager m = NDManager.newBaseManager();
                 ModelStore.Loaded reloaded = ModelStore.loadDirectory(s.output(), m)) {
                heldoutPerplexity = perplexity(reloaded.model(), windows(heldout, -1), pad);
            }
            JsonNode stats = JSON.readTree(s.corpusDir().resolve(CorpusBuilder.STATS).toFile());
            recipe.put("base", s.baseName());
            recipe.put("model_type", s.modelType());
            recipe.put("command", s.command());
            recipe.put("seed", s.seed());
            recipe.put("corpus_manifest_sha256", Checksums.sha256(s.manifest()));
            recipe.put("corpus_sha256", stats.path("sha256").asText());
            recipe.put("corpus_train_bytes", trainBytes);
            recipe.put("corpus_heldout_bytes", stats.path("heldout_bytes").asLong());
            recipe.put("tokens_seen", (long) totalSteps * tokensPerStep);
            recipe.put("epochs", (double) totalSteps * s.batch() / windows(train, 0).size());
            recipe.put("steps", totalSteps);
            recipe.put("seq_len", s.seqLen());
            recipe.put("batch_size", s.batch());
            recipe.put("learning_rate", s.learningRate());
            recipe.put("min_lr_ratio", s.minLrRatio());
            recipe.put("warmup_ratio", s.warmupRatio());
            recipe.put("weight_decay", s.weightDecay());
            recipe.put("max_grad_norm", s.gradClip());
            recipe.put("final_train_loss", loss);
            recipe.put("heldout_perplexity", heldoutPerplexity);
            recipe.put("heldout_bits_per_byte", Math.log(heldoutPerplexity) / Math.log(2));
            recipe.put("initial_heldout_perplexity", initialPerplexity);
            recipe.put("training_seconds", Math.round(trainingSeconds));
            recipe.put("cores", Runtime.getRuntime().availableProcessors());
            recipe.put("weights_sha256", sha);
            recipe.put("dtype", "bfloat16");
            recipe.put("time", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
            Files.write(s.output().resolve(RECIPE), JSON.writeValueAsBytes(recipe));
        }
        return recipe;
    }

    /** Reads the corpus into tokenised documents of each split; returns the training text's bytes. */
    private long readCorpus(ByteTokenizer tokenizer, List<int[]> train, List<int[]> heldout) throws IOException {
        int bos = tokenizer.specialId(ByteTokenizer.BEGIN_OF_TEXT);
        int eos = tokenizer.specialId(ByteTokenizer.END_OF_TEXT);
        long bytes = 0;
        ObjectMapper json = new ObjectMapper();
        try (BufferedReader r = Files.newBufferedReader(s.corpusDir().resolve(CorpusBuilder.CORPUS), StandardCharsets.UTF_8)) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                JsonNode doc = json.readTree(line);
                byte[] text = doc.path("text").asText().getBytes(StandardCharsets.UTF_8);
                int[] body = tokenizer.encodeBytes(text);
                int[] ids = new int[body.length + 2];
                ids[0] = bos;
                System.arraycopy(body, 0, ids, 1, body.length);
                ids[ids.length - 1] = eos;
                if (CorpusBuilder.HELDOUT.equals(doc.path("split").asText())) {
                    heldout.add(ids);
                } else {
                    train.add(ids);
                    bytes += text.length;
                }
            }
        }
        if (train.isEmpty() || heldout.isEmpty()) {
            throw new IOException("the corpus in " + s.corpusDir() + " has no training or no held-out documents");
        }
        return bytes;
    }

    /**
     * The documents packed into windows of {@code seq_len + 1} tokens: shuffled by (seed, epoch),
     * or in corpus order for {@code epoch < 0}; the last partial window is dropped.
     */
    private List<int[]> windows(List<int[]> docs, int epoch) {
        List<int[]> order = new ArrayList<>(docs);
        if (epoch >= 0) {
            Collections.shuffle(order, new Random(s.seed() * 7919L + epoch));
        }
        int width = s.seqLen() + 1;
        List<int[]> windows = new ArrayList<>();
        int[] current = new int[width];
        int filled = 0;
        for (int[] doc : order) {
            int at = 0;
            while (at < doc.length) {
                int n = Math.min(width - filled, doc.length - at);
                System.arraycopy(doc, at, current, filled, n);
                filled += n;
                at += n;
                if (filled == width) {
                    windows.add(current);
                    current = new int[width];
                    filled = 0;
                }
            }
        }
        return windows;
    }

    /** exp of the mean next-token cross-entropy over every token of the windows (nats per byte token). */
    private double perplexity(LlamaModel model, List<int[]> windows, int pad) {
        double sum = 0;
        long count = 0;
        for (int i = 0; i < windows.size(); i += s.batch()) {
            List<Example> examples = new ArrayList<>();
            for (int[] w : windows.subList(i, Math.min(windows.size(), i + s.batch()))) {
                examples.add(new Example(w, 1));
            }
            Batch b = Batch.of(examples, pad);
            try (NDScope scope = new NDScope(); NDManager m = model.manager().newSubManager()) {
                scope.suppressNotUsedWarning();
                sum += b.loss(model, null, false, m).getFloat() * b.targetTokens();
                count += b.targetTokens();
            }
        }
        return Math.exp(sum / Math.max(1, count));
    }
}
