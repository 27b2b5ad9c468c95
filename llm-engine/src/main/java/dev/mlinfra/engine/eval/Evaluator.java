package dev.mlinfra.engine.eval;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.jni.JniUtils;
import dev.mlinfra.engine.data.Issue;
import dev.mlinfra.engine.data.PromptTemplate;
import dev.mlinfra.engine.data.PromptTemplate.Example;
import dev.mlinfra.engine.EngineRuntime;
import dev.mlinfra.engine.generate.GenerationResult;
import dev.mlinfra.engine.generate.Generator;
import dev.mlinfra.engine.generate.SamplingParams;
import dev.mlinfra.engine.model.LlamaModel;
import dev.mlinfra.engine.model.LoraAdapter;
import dev.mlinfra.engine.tokenizer.ByteTokenizer;
import dev.mlinfra.engine.train.Batch;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Scores a model on held-out records: the mean answer-token cross-entropy ({@code eval_loss}),
 * and, from greedy generations, {@code accuracy} and macro {@code f1} of the issue type and the
 * {@code trajectory_similarity} of the resolution steps (see {@link Metrics}). A generated issue
 * type outside the label set the model was trained on counts as wrong. {@code answer_format} is the
 * fraction of answers in the trained format ({@code Issue type:} line and numbered steps).
 */
public final class Evaluator {

    private static final int LOSS_BATCH = 8;
    // What an answer without a label of the set is scored as: never equal to a reference label.
    private static final String NO_LABEL = "";

    private final LlamaModel model;
    private final ByteTokenizer tokenizer;
    private final PromptTemplate template;

    public Evaluator(LlamaModel model, ByteTokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.template = new PromptTemplate(tokenizer);
    }

    /** The scores of one evaluation. */
    public record Result(double evalLoss, double accuracy, double f1, double trajectorySimilarity, double answerFormat,
            int numExamples, double generationTokensPerSecond, List<Map<String, Object>> samples) {

        /** The metrics as written to metrics.json. */
        public Map<String, Object> asMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            if (Double.isFinite(evalLoss)) {
                // left out where no answer token could be scored: 0 would read as a perfect score
                m.put("eval_loss", round(evalLoss));
            }
            m.put("accuracy", round(accuracy));
            m.put("f1", round(f1));
            m.put("trajectory_similarity", round(trajectorySimilarity));
            m.put("answer_format", round(answerFormat));
            m.put("num_examples", numExamples);
            return m;
        }

        private static double round(double v) {
            return Math.round(v * 1e6) / 1e6;
        }
    }

    /**
     * Evaluates {@code records} with an optional adapter; {@code labels} is the label set the model
     * was trained on; {@code progress} gets the count of records done.
     */
    public Result evaluate(List<? extends Issue> records, LoraAdapter adapter, int maxSeqLen, int maxNewTokens,
            Collection<String> labels, IntConsumer progress) {
        List<Example> examples = new ArrayList<>();
        for (Issue r : records) {
            examples.add(template.example(r, maxSeqLen));
        }
        double loss = evalLoss(examples, adapter);
        try (EngineRuntime.ThreadCount decoding = EngineRuntime.threads(EngineRuntime.DECODING_THREADS)) {
            return generated(records, examples, adapter, maxNewTokens, labels, progress, loss);
        }
    }

    private Result generated(List<? extends Issue> records, List<Example> examples, LoraAdapter adapter, int maxNewTokens,
            Collection<String> labels, IntConsumer progress, double loss) {
        Generator generator = new Generator(model, tokenizer);
        List<String> refTypes = new ArrayList<>();
        List<String> predTypes = new ArrayList<>();
        double similarity = 0;
        int formatted = 0;
        long tokens = 0;
        long nanos = 0;
        List<Map<String, Object>> samples = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            Issue r = records.get(i);
            Example e = examples.get(i);
            int[] prompt = java.util.Arrays.copyOf(e.ids(), e.targetStart());
            GenerationResult g = generator.generate(prompt, adapter, SamplingParams.greedy(maxNewTokens));
            PromptTemplate.Prediction p = PromptTemplate.parse(g.text(), labels);
            refTypes.add(r.issueType());
            // Not a label of the set: wrong even against a reference labelled "unknown".
            predTypes.add(p.labelled() ? p.issueType() : NO_LABEL);
            similarity += Metrics.trajectorySimilarity(p.steps(), r.steps());
            formatted += PromptTemplate.hasAnswerFormat(g.text()) ? 1 : 0;
            tokens += g.completionTokens();
            nanos += g.totalNanos();
            if (samples.size() < 3) {
                Map<String, Object> s = new LinkedHashMap<>();
                s.put("issue_title", r.title());
                s.put("reference_type", r.issueType());
                s.put("output", g.text());
                samples.add(s);
            }
            if (progress != null) {
                progress.accept(i + 1);
            }
        }
        int n = records.size();
        return new Result(loss, Metrics.accuracy(refTypes, predTypes), Metrics.macroF1(refTypes, predTypes),
                n == 0 ? 0 : similarity / n, n == 0 ? 0 : (double) formatted / n, n, nanos == 0 ? 0 : tokens / (nanos / 1e9), samples);
    }

    /** Mean cross-entropy over the answer tokens of all examples; NaN when they have none. */
    public double evalLoss(List<Example> examples, LoraAdapter adapter) {
        if (examples.isEmpty()) {
            return Double.NaN;
        }
        boolean grad = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        double total = 0;
        long count = 0;
        try {
            for (int i = 0; i < examples.size(); i += LOSS_BATCH) {
                Batch b = Batch.of(examples.subList(i, Math.min(examples.size(), i + LOSS_BATCH)),
                        model.config().padTokenId());
                try (NDScope scope = new NDScope(); NDManager m = model.manager().newSubManager()) {
                    scope.suppressNotUsedWarning();
                    total += b.loss(model, adapter, false, m).getFloat() * (double) b.targetTokens();
                    count += b.targetTokens();
                }
            }
        } finally {
            JniUtils.setGradMode(grad);
        }
        // Not one answer token within max_seq_len (every prompt fills it): nothing was measured.
        return count == 0 ? Double.NaN : total / count;
    }
}
