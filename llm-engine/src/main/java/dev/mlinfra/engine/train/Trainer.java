package dev.mlinfra.engine.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlinfra.engine.EngineRuntime;
import dev.mlinfra.engine.artifact.ArtifactStore;
import dev.mlinfra.engine.artifact.Checksums;
import dev.mlinfra.engine.data.DatasetReader;
import dev.mlinfra.engine.data.InvalidDatasetException;
import dev.mlinfra.engine.data.Issue;
import dev.mlinfra.engine.data.PromptTemplate.Example;
import dev.mlinfra.engine.data.PromptTemplate;
import dev.mlinfra.engine.data.PromptTemplateFile;
import dev.mlinfra.engine.eval.Evaluator;
import dev.mlinfra.engine.model.LlamaModel;
import dev.mlinfra.engine.model.LoraAdapter;
import dev.mlinfra.engine.model.ModelConfig;
import dev.mlinfra.engine.model.ModelStore;
import dev.mlinfra.engine.progress.ProgressListener;
import dev.mlinfra.engine.progress.StepReport;
import dev.mlinfra.engine.safetensors.Safetensors;
import dev.mlinfra.engine.safetensors.Tensor;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Supervised fine-tuning of a miniature base model on issue records, from job spec to artifacts:
 * the dataset streamed and sampled ({@code max_train_records}), split, LoRA or full fine-tuning
 * with AdamW, warmup + cosine schedule, global-norm clipping, step reports, checkpoints (resumed
 * from automatically), cancellation at step boundaries, evaluation and PEFT/HF artifacts in the
 * output location. The labels (issue types) are those of the training records; they are recorded
 * with the artifacts ({@value ModelStore#LABELS}) and in metrics.json ({@code labels}).
 *
 * <p>Output layout: {@code adapter/} (LoRA: adapter_config.json, adapter_model.safetensors,
 * config.json, tokenizer.json) or {@code model/} (full: model.safetensors, config.json,
 * tokenizer.json), {@code eval/metrics.json}, {@code checkpoints/step-N/}; each of these weight
 * folders holds the prompt template the model was trained with ({@value PromptTemplateFile#FILE}).
 */
public final class Trainer {

    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final String CHECKPOINTS = "checkpoints/";
    static final String STATE = "trainer_state.json";
    static final String OPTIMIZER = "optimizer.safetensors";

    private final TrainingSpec spec;
    private final Hyperparameters hp;
    private final ProgressListener listener;
    private final CancellationToken cancellation;
    private double resumedLoss = Double.NaN;

    public Trainer(TrainingSpec spec, ProgressListener listener, CancellationToken cancellation) {
        this.spec = spec;
        this.hp = spec.hyperparameters();
        this.listener = listener;
        this.cancellation = cancellation;
    }

    /** What a finished job produced. */
    public record Result(int steps, double finalLoss, Map<String, Object> metrics, String artifactUri) {
    }

    /** Runs the job to the end, or throws {@link TrainingCancelledException} / {@link TrainingFailedException}. */
    public Result run() throws IOException {
        Engine engine = EngineRuntime.engine(hp.threadCount());
        long seed = hp.seedValue();
        String jobId = spec.effectiveJobId();
        ArtifactStore out = ArtifactStore.open(spec.output(), spec.s3());

        DatasetReader.Sample dataset = readDataset(seed);
        DatasetReader.Split split = DatasetReader.split(dataset.records(), hp.validation(), seed);
        List<String> labels = Issue.labels(split.train());

        Path baseDir = spec.baseModelDir() != null ? Paths.get(spec.baseModelDir()) : ModelStore.defaultBaseDir();
        try (NDManager root = NDManager.newBaseManager();
             ModelStore.Loaded base = ModelStore.loadBase(spec.modelType(), baseDir, root)) {
            LlamaModel model = base.model();
            PromptTemplate template = new PromptTemplate(base.tokenizer());
            int seqLen = Math.min(hp.seqLen(), base.config().maxPositionEmbeddings());
            List<Example> train = new ArrayList<>();
            int noRoom = 0;
            for (Issue r : split.train()) {
                Example e = template.example(r, seqLen);
                // A prompt that fills the whole sequence leaves nothing of the answer to learn from.
                if (e.targetStart() >= e.ids().length) {
                    noRoom++;
                } else {
                    train.add(e);
                }
            }
            if (train.isEmpty()) {
                throw new TrainingFailedException("no training record fits max_seq_len " + seqLen + ": each prompt (repository"
                        + " and title) leaves no room for its answer; raise max_seq_len");
            }
            Map<String, Long> skippedReasons = new LinkedHashMap<>(dataset.skippedReasons());
            if (noRoom > 0) {
                skippedReasons.merge("its prompt leaves no room for the answer within max_seq_len " + seqLen, (long) noRoom,
                        Long::sum);
            }
            int batch = Math.min(hp.batch(), train.size());
            int stepsPerEpoch = (train.size() + batch - 1) / batch;
            int totalSteps = stepsPerEpoch * hp.epochCount();
            if (hp.stepLimit() > 0) {
                totalSteps = Math.min(totalSteps, hp.stepLimit());
            }
            // the epochs that run: fewer than asked for where max_steps ends the job first
            int totalEpochs = (totalSteps + stepsPerEpoch - 1) / stepsPerEpoch;
            LrSchedule schedule = new LrSchedule(hp.lr(), Math.min(hp.warmup(totalSteps), totalSteps), totalSteps, hp.minLr());

            LoraAdapter adapter = hp.lora() ? LoraAdapter.create(model, hp.loraConfig(), seed) : null;
            Map<String, NDArray> params = adapter != null ? adapter.parameters() : model.weights();
            try (AdamW optimizer = new AdamW(root, hp.decay())) {
                int startStep = resume(out, params, optimizer);
                params.values().forEach(p -> p.setRequiresGradient(true));
                Map<String, Object> started = new LinkedHashMap<>();
                started.put("job_id", jobId);
                started.put("model_type", spec.modelType());
                started.put("train_examples", train.size());
                started.put("validation_examples", split.validation().size());
                started.put("total_records", dataset.totalRecords());
                started.put("sampled_records", dataset.records().size());
                started.put("skipped_records", dataset.skippedRecords() + noRoom);
                started.put("skipped_reasons", skippedReasons);
                started.put("skipped_examples", dataset.skippedExamples());
                started.put("labels", labels);
                started.put("total_steps", totalSteps);
                started.put("trainable_parameters", params.values().stream().mapToLong(NDArray::size).sum());
                started.put("resumed_from_step", startStep);
                listener.onEvent("started", started);

                double lastLoss = resumedLoss;
                int step = startStep;
                while (step < totalSteps) {
                    if (cancellation.isCancelled()) {
                        checkpoint(out, step, lastLoss, params, optimizer, adapter, base, labels);
                        throw new TrainingCancelledException(step, "cancelled after step " + step);
                    }
                    int epoch = step / stepsPerEpoch;
                    List<List<Example>> plan = epochPlan(train, batch, seed, epoch);
                    List<Example> examples = plan.get(step % stepsPerEpoch);
                    step++;
                    double lr = schedule.at(step);
                    long start = System.nanoTime();
                    Batch b = Batch.of(examples, base.config().padTokenId());
                    engine.setRandomSeed((int) (seed * 1_000_003L + step));
                    lastLoss = trainStep(engine, model, adapter, b, params, optimizer, lr, step, hp.gradClip());
                    double seconds = (System.nanoTime() - start) / 1e9;
                    listener.onStep(new StepReport(jobId, epoch + 1, totalEpochs, step, totalSteps, lastLoss, lr,
                            b.tokens() / seconds, Instant.now().truncatedTo(ChronoUnit.SECONDS).toString()));
                    if (hp.checkpointInterval() > 0 && step % hp.checkpointInterval() == 0 && step < totalSteps) {
                        checkpoint(out, step, lastLoss, params, optimizer, adapter, base, labels);
                    }
                }
                params.values().forEach(p -> p.setRequiresGradient(false));
                if (startStep < totalSteps || !hasCheckpoint(out, totalSteps)) {
                    checkpoint(out, totalSteps, lastLoss, params, optimizer, adapter, base, labels);
                }

                String folder = adapter != null ? "adapter/" : "model/";
                if (adapter != null) {
                    ModelStore.writeAdapter(out, folder, base.config(), base.tokenizer(), adapter, labels);
                } else {
                    ModelStore.writeModel(out, folder, model, base.tokenizer(), labels);
                }
                Map<String, Object> metrics = evaluate(model, adapter, base, split.validation(), labels, totalSteps, lastLoss);
                out.put("eval/metrics.json", JSON.writeValueAsBytes(metrics));
                Map<String, Object> done = new LinkedHashMap<>();
                done.put("job_id", jobId);
                done.put("steps", totalSteps);
                done.put("artifacts", out.uri(folder));
                done.put("metrics", metrics);
                listener.onEvent("completed", done);
                if (adapter != null) {
                    adapter.close();
                }
                return new Result(totalSteps, lastLoss, metrics, out.uri(folder));
            }
        }
    }

    /**
     * Streams the dataset and keeps the sample training uses; fails the job when it cannot be read,
     * is unreadable as a whole, or has fewer than two usable records.
     */
    private DatasetReader.Sample readDataset(long seed) {
        String location = spec.dataset().location();
        int fitLength = Math.min(hp.seqLen(), ModelConfig.builtin(spec.modelType()).maxPositionEmbeddings());
        DatasetReader.Sample dataset;
        String expected = spec.dataset().sha256();
        MessageDigest digest = Checksums.sha256();
        try (InputStream in = new DigestInputStream(ArtifactStore.openLocation(location, spec.s3()), digest)) {
            dataset = DatasetReader.sample(in, spec.dataset().format(),
                    new DatasetReader.Sampling(hp.trainRecordLimit(), seed, fitLength));
            if (expected != null && !expected.isBlank()) {
                in.transferTo(OutputStream.nullOutputStream()); // the checksum covers the whole file
                String actual = HexFormat.of().formatHex(digest.digest());
                if (!actual.equalsIgnoreCase(expected)) {
                    throw new TrainingFailedException("the dataset's file " + location + " is not the one this job was"
                            + " created for (sha256 " + actual + ", the job's dataset had " + expected + "): the dataset"
                            + " was deleted and uploaded again since; create a new job to train on the new file");
                }
            }
        } catch (InvalidDatasetException e) {
            throw new TrainingFailedException("dataset " + location + " is invalid: " + e.getMessage(), e);
        } catch (FileNotFoundException | NoSuchFileException e) {
            // The platform checks that a job's dataset is ready when the job is created; only a deletion since removes it.
            throw new TrainingFailedException("the dataset's file " + location + " is gone: the dataset was deleted (or its"
                    + " file removed) after the job was created", e);
        } catch (IOException e) {
            throw new TrainingFailedException("cannot read dataset " + location + ": " + e.getMessage(), e);
        }
        if (dataset.skippedRecords() > 0) {
            LOG.warn("{} records skipped {}, first: {}", dataset.skippedRecords(), dataset.skippedReasons(),
                    dataset.skippedExamples());
        }
        LOG.info("{} usable records, {} kept for training and validation", dataset.totalRecords(), dataset.records().size());
        if (dataset.records().size() < 2) {
            throw new TrainingFailedException("dataset " + location + " has " + dataset.totalRecords()
                    + " usable records; at least 2 are needed"
                    + (dataset.skippedRecords() == 0 ? "" : " (skipped " + dataset.skippedRecords() + ": "
                    + dataset.skippedReasons() + "; first: " + dataset.skippedExamples().get(0) + ")"));
        }
        return dataset;
    }

    /**
     * One optimizer step on a batch: loss, backward, global-norm clipping at {@code gradClip}, AdamW
     * update of {@code params}; fails the job on a non-finite loss or gradient. Returns the loss.
     */
    static double trainStep(Engine engine, LlamaModel model, LoraAdapter adapter, Batch b, Map<String, NDArray> params,
            AdamW optimizer, double lr, int step, double gradClip) {
        try (NDScope scope = new NDScope(); NDManager m = model.manager().newSubManager()) {
            scope.suppressNotUsedWarning();
            double loss;
            try (GradientCollector gc = engine.newGradientCollector()) {
                NDArray l = b.loss(model, adapter, adapter != null, m);
                loss = l.getFloat();
                if (!Double.isFinite(loss)) {
                    throw new TrainingFailedException("training diverged: loss is " + loss + " at step " + step
                            + " (learning rate " + lr + "); lower learning_rate or max_grad_norm");
                }
                gc.backward(l);
            }
            boolean grad = JniUtils.isGradMode();
            JniUtils.setGradMode(false);
            Map<String, NDArray> grads = new LinkedHashMap<>();
            try {
                double sumSq = 0;
                for (Map.Entry<String, NDArray> e : params.entrySet()) {
                    NDArray g = e.getValue().getGradient();
                    grads.put(e.getKey(), g);
                    sumSq += g.square().sum().getFloat();
                }
                double norm = Math.sqrt(sumSq);
                if (!Double.isFinite(norm)) {
                    throw new TrainingFailedException("training diverged: gradient norm is " + norm + " at step " + step
                            + " (loss " + loss + ", learning rate " + lr + "); lower learning_rate");
                }
                double clip = norm > gradClip ? gradClip / (norm + 1e-6) : 1.0;
                for (Map.Entry<String, NDArray> e : params.entrySet()) {
                    NDArray g = grads.get(e.getKey());
                    if (clip < 1.0) {
                        g.muli(clip);
                    }
                    optimizer.update(e.getKey(), e.getValue(), g, lr, step);
                    JniUtils.zeroGrad((PtNDArray) e.getValue());
                }
            } finally {
                grads.values().forEach(NDArray::close);
                JniUtils.setGradMode(grad);
            }
            return loss;
        }
    }

    /**
     * The batches of one epoch, a pure function of (seed, epoch): records are shuffled, grouped in
     * windows of 8 batches sorted by length (less padding), and the batch order is shuffled again.
     */
    static List<List<Example>> epochPlan(List<Example> train, int batch, long seed, int epoch) {
        Random rnd = new Random(seed * 7919L + epoch);
        List<Example> order = new ArrayList<>(train);
        Collections.shuffle(order, rnd);
        int window = batch * 8;
        List<List<Example>> batches = new ArrayList<>();
        for (int w = 0; w < order.size(); w += window) {
            List<Example> chunk = new ArrayList<>(order.subList(w, Math.min(order.size(), w + window)));
            chunk.sort(Comparator.comparingInt(e -> e.ids().length));
            for (int i = 0; i < chunk.size(); i += batch) {
                batches.add(chunk.subList(i, Math.min(chunk.size(), i + batch)));
            }
        }
        Collections.shuffle(batches, rnd);
        return batches;
    }

    private Map<String, Object> evaluate(LlamaModel model, LoraAdapter adapter, ModelStore.Loaded base,
            List<Issue> validation, List<String> labels, int steps, double trainLoss) {
        List<Issue> records = hp.evalLimit() > 0 && validation.size() > hp.evalLimit()
                ? validation.subList(0, hp.evalLimit()) : validation;
        int seqLen = Math.min(hp.seqLen(), base.config().maxPositionEmbeddings());
        Evaluator evaluator = new Evaluator(model, base.tokenizer());
        // A cancel during evaluation stops after the record being generated: the weights are checkpointed already,
        // and an evaluation (of the base model too) can take minutes that would hold the job's slot.
        IntConsumer stopWhenCancelled = done -> {
            if (cancellation.isCancelled()) {
                throw new TrainingCancelledException(steps, "cancelled during evaluation, after step " + steps);
            }
        };
        stopWhenCancelled.accept(0);
        Map<String, Object> metrics = new LinkedHashMap<>();
        if (records.isEmpty()) {
            metrics.put("num_examples", 0);
            metrics.put("train_loss", trainLoss);
            metrics.put("labels", labels);
            return metrics;
        }
        Map<String, Object> evaluating = new LinkedHashMap<>();
        evaluating.put("steps", steps);
        evaluating.put("num_examples", records.size());
        evaluating.put("with_base", hp.compareWithBase());
        listener.onEvent("evaluating", evaluating);
        Evaluator.Result trained = evaluator.evaluate(records, adapter, seqLen, hp.generationLimit(), labels, stopWhenCancelled);
        metrics.putAll(trained.asMap());
        metrics.put("train_loss", trainLoss);
        metrics.put("steps", steps);
        metrics.put("labels", labels);
        if (hp.compareWithBase()) {
            Evaluator.Result baseline;
            if (adapter != null) {
                baseline = evaluator.evaluate(records, null, seqLen, hp.generationLimit(), labels, stopWhenCancelled);
            } else {
                try (NDManager m = NDManager.newBaseManager();
                     ModelStore.Loaded untouched = ModelStore.loadBase(spec.modelType(),
                             spec.baseModelDir() != null ? Paths.get(spec.baseModelDir()) : ModelStore.defaultBaseDir(), m)) {
                    baseline = new Evaluator(untouched.model(), untouched.tokenizer())
                            .evaluate(records, null, seqLen, hp.generationLimit(), labels, stopWhenCancelled);
                } catch (IOException e) {
                    throw new TrainingFailedException("cannot load the base model for comparison: " + e.getMessage(), e);
                }
            }
            metrics.put("base", baseline.asMap());
        }
        metrics.put("samples", trained.samples());
        listener.onEvent("evaluation", metrics);
        return metrics;
    }

    // ---------------------------------------------------------------- checkpoints

    private void checkpoint(ArtifactStore out, int step, double loss, Map<String, NDArray> params, AdamW optimizer,
            LoraAdapter adapter, ModelStore.Loaded base, List<String> labels) throws IOException {
        String dir = CHECKPOINTS + "step-" + step + "/";
        Map<String, Tensor> weights = new LinkedHashMap<>();
        params.forEach((name, p) -> weights.put(name, Tensor.ofFloats(p.getShape().getShape(), p.toFloatArray())));
        if (adapter != null) {
            out.put(dir + ModelStore.ADAPTER_WEIGHTS, Safetensors.write(weights, Map.of("format", "pt")));
            out.put(dir + ModelStore.ADAPTER_CONFIG,
                    ModelStore.adapterConfigJson(base.config(), adapter.config(), adapter.moduleNames(), labels));
        } else {
            out.put(dir + ModelStore.WEIGHTS, Safetensors.write(weights, Map.of("format", "pt")));
            out.put(dir + ModelStore.CONFIG, ModelStore.configJson(base.config(), labels));
        }
        PromptTemplateFile.write(out, dir);
        out.put(dir + OPTIMIZER, Safetensors.write(optimizer.state(), Map.of()));
        ObjectNode state = JSON.createObjectNode();
        state.put("step", step);
        state.put("loss", Double.isFinite(loss) ? loss : 0);
        state.put("use_lora", adapter != null);
        state.put("model_type", spec.modelType());
        state.put("seed", hp.seedValue());
        state.put("time", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        // Written last: a checkpoint without it is incomplete and ignored.
        out.put(dir + STATE, JSON.writeValueAsBytes(state));
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("job_id", spec.effectiveJobId());
        details.put("step", step);
        details.put("location", out.uri(dir));
        listener.onEvent("checkpoint", details);
    }

    private static boolean hasCheckpoint(ArtifactStore out, int step) throws IOException {
        return out.get(CHECKPOINTS + "step-" + step + "/" + STATE) != null;
    }

    /** Loads the newest complete checkpoint, if any, and returns its step (0 without one). */
    private int resume(ArtifactStore out, Map<String, NDArray> params, AdamW optimizer) throws IOException {
        int latest = 0;
        for (String path : out.list(CHECKPOINTS)) {
            if (!path.endsWith("/" + STATE)) {
                continue;
            }
            String dir = path.substring(CHECKPOINTS.length(), path.length() - STATE.length() - 1);
            if (dir.startsWith("step-")) {
                try {
                    latest = Math.max(latest, Integer.parseInt(dir.substring(5)));
                } catch (NumberFormatException ignored) {
                    // not one of ours
                }
            }
        }
        if (latest == 0) {
            return 0;
        }
        String dir = CHECKPOINTS + "step-" + latest + "/";
        JsonNode state = JSON.readTree(out.get(dir + STATE));
        boolean lora = state.path("use_lora").asBoolean();
        if (lora != hp.lora() || !spec.modelType().equals(state.path("model_type").asText())) {
            throw new TrainingFailedException("the output location holds a checkpoint of a different job (use_lora "
                    + lora + ", model_type " + state.path("model_type").asText() + "); use a new output location");
        }
        byte[] weightsBytes = out.get(dir + (lora ? ModelStore.ADAPTER_WEIGHTS : ModelStore.WEIGHTS));
        Map<String, Tensor> weights = Safetensors.read(weightsBytes).tensors();
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            Tensor t = weights.get(e.getKey());
            if (t == null || t.numel() != e.getValue().size()) {
                throw new TrainingFailedException("checkpoint " + out.uri(dir) + " does not match this job (" + e.getKey() + ")");
            }
            e.getValue().set(t.toFloats());
        }
        optimizer.load(Safetensors.read(out.get(dir + OPTIMIZER)).tensors(), params);
        resumedLoss = state.path("loss").asDouble(Double.NaN);
        LOG.info("resuming from {} (step {})", out.uri(dir), latest);
        return latest;
    }
}
