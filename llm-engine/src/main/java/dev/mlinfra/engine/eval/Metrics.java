package dev.mlinfra.engine.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The evaluation metrics.
 *
 * <p><b>Step similarity</b> of two steps is the F1 of their word multisets (lower-cased
 * alphanumeric words): {@code 2 * overlap / (|a| + |b|)}.
 *
 * <p><b>Trajectory similarity</b> of a predicted step list P against a reference list R is the
 * harmonic mean of precision (mean over P of each step's best step similarity in R) and recall
 * (mean over R of each step's best similarity in P). It is 1.0 for identical lists, 0 when no
 * word is shared or either list is empty (both empty: 1.0), and ignores step order.
 */
public final class Metrics {

    private Metrics() {
    }

    /** Fraction of predictions equal to the reference. */
    public static double accuracy(List<String> references, List<String> predictions) {
        if (references.isEmpty()) {
            return 0;
        }
        int right = 0;
        for (int i = 0; i < references.size(); i++) {
            if (references.get(i).equals(predictions.get(i))) {
                right++;
            }
        }
        return (double) right / references.size();
    }

    /**
     * Macro F1 over the classes that occur in the references: the unweighted mean of per-class
     * F1. A prediction outside those classes (e.g. {@code unknown}) counts as a miss.
     */
    public static double macroF1(List<String> references, List<String> predictions) {
        List<String> classes = references.stream().distinct().sorted().toList();
        if (classes.isEmpty()) {
            return 0;
        }
        double sum = 0;
        for (String c : classes) {
            int tp = 0;
            int fp = 0;
            int fn = 0;
            for (int i = 0; i < references.size(); i++) {
                boolean ref = references.get(i).equals(c);
                boolean pred = predictions.get(i).equals(c);
                if (ref && pred) {
                    tp++;
                } else if (pred) {
                    fp++;
                } else if (ref) {
                    fn++;
                }
            }
            sum += tp == 0 ? 0 : 2.0 * tp / (2.0 * tp + fp + fn);
        }
        return sum / classes.size();
    }

    /** Word-multiset F1 of two texts. */
    public static double stepSimilarity(String a, String b) {
        List<String> wa = words(a);
        List<String> wb = words(b);
        if (wa.isEmpty() && wb.isEmpty()) {
            return 1;
        }
        if (wa.isEmpty() || wb.isEmpty()) {
            return 0;
        }
        Map<String, Integer> counts = new HashMap<>();
        wa.forEach(w -> counts.merge(w, 1, Integer::sum));
        int overlap = 0;
        for (String w : wb) {
            Integer c = counts.get(w);
            if (c != null && c > 0) {
                overlap++;
                counts.put(w, c - 1);
            }
        }
        return 2.0 * overlap / (wa.size() + wb.size());
    }

    /** Soft F1 of predicted against reference steps (see the class comment). */
    public static double trajectorySimilarity(List<String> predicted, List<String> reference) {
        if (predicted.isEmpty() && reference.isEmpty()) {
            return 1;
        }
        if (predicted.isEmpty() || reference.isEmpty()) {
            return 0;
        }
        double precision = meanBest(predicted, reference);
        double recall = meanBest(reference, predicted);
        return precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
    }

    private static double meanBest(List<String> from, List<String> to) {
        double sum = 0;
        for (String a : from) {
            double best = 0;
            for (String b : to) {
                best = Math.max(best, stepSimilarity(a, b));
            }
            sum += best;
        }
        return sum / from.size();
    }

    static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        for (String w : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
            if (!w.isEmpty()) {
                out.add(w);
            }
        }
        return out;
    }
}
