package dev.align.core.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.align.core.nd.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Hugging Face's logits processors and warpers as tensor functions of scores [B, V] → [B, V] (FLOAT32;
 * removed tokens get −∞), composed by {@link #pipeline} in transformers' order:
 *
 * <pre>
 *   repetition penalty → (sampling only:) temperature → top-k → top-p → min-p
 * </pre>
 *
 * Each filter keeps at least one token. These run outside any gradient collector (generation never
 * builds a graph), so plain Java numbers are passed to ops here.
 */
public final class LogitsProcessors {
    private LogitsProcessors() {}

    /**
     * transformers' {@code RepetitionPenaltyLogitsProcessor}: the score of every token in {@code seen}
     * is divided by {@code penalty} if it is positive and multiplied by it otherwise (so a penalty &gt; 1
     * always makes a seen token less likely).
     *
     * @param scores [B, V]
     * @param seen [B, V] BOOLEAN, true for tokens already in the row (prompt included)
     */
    public static NDArray repetitionPenalty(NDArray scores, NDArray seen, double penalty) {
        NDArray negative = scores.lt(0f); // [B,V]
        NDArray multiplied = scores.mul((float) penalty);
        NDArray divided = scores.div((float) penalty);
        NDArray penalised = where(negative, multiplied, divided); // [B,V]
        return where(seen, penalised, scores);
    }

    /** transformers' {@code TemperatureLogitsWarper}: scores / temperature (temperature &gt; 0). */
    public static NDArray temperature(NDArray scores, double temperature) {
        return scores.div((float) temperature);
    }

    /**
     * transformers' {@code TopKLogitsWarper}: removes tokens whose score is below the k-th largest
     * score of their row (tokens tied with the k-th are kept, so ties may keep more than k).
     */
    public static NDArray topK(NDArray scores, int k) {
        long v = scores.getShape().get(1);
        if (k <= 0 || k >= v) {
            return scores;
        }
        NDArray kth = scores.topK(k, 1, true, true).get(0).get(":, " + (k - 1) + ":" + k); // [B,1]
        return where(scores.gte(kth), scores, negInf(scores.getManager()));
    }

    /**
     * Nucleus filtering: keeps the smallest set of tokens, most likely first, whose probability reaches
     * {@code p} (sum ≥ p, accumulated in fp64), always at least one token. Among tokens tied in
     * probability the lower id is taken first, so the kept set is exactly the smallest one (transformers
     * leaves the order of ties to an unstable sort). p ≥ 1 keeps everything.
     */
    public static NDArray topP(NDArray scores, double p) {
        if (p >= 1) {
            return scores;
        }
        long v = scores.getShape().get(1);
        NDArray probs = scores.softmax(1); // [B,V]
        NDArray sorted = JniUtils.sort((PtNDArray) probs, 1, true); // [B,V] descending
        NDArray cum = sorted.toType(DataType.FLOAT64, false).cumSum(1); // [B,V]
        // index (in sorted order) of the token at which the mass first reaches p
        NDArray last = cum.lt(p).toType(DataType.INT64, false).sum(new int[] {1}, true).minimum(v - 1); // [B,1]
        NDArray threshold = sorted.gather(last, 1); // [B,1] probability of that token
        NDArray above = probs.gt(threshold); // [B,V]: kept whatever the order of ties
        NDArray tied = probs.eq(threshold); // [B,V]
        NDArray nAbove = above.toType(DataType.INT64, false).sum(new int[] {1}, true); // [B,1]
        NDArray need = last.add(1).sub(nAbove); // [B,1] ties to keep, ≥ 1
        NDArray tieRank = tied.toType(DataType.INT64, false).cumSum(1); // [B,V] 1-based among ties, by id
        NDArray keep = above.logicalOr(tied.logicalAnd(tieRank.lte(need)));
        return where(keep, scores, negInf(scores.getManager()));
    }

    /**
     * transformers' {@code MinPLogitsWarper}: removes tokens whose probability is below
     * {@code minP × max probability} of their row (the most likely token always stays).
     */
    public static NDArray minP(NDArray scores, double minP) {
        if (minP <= 0) {
            return scores;
        }
        NDArray probs = scores.softmax(1); // [B,V]
        NDArray floor = probs.max(new int[] {1}, true).mul((float) minP); // [B,1]
        return where(probs.gte(floor), scores, negInf(scores.getManager()));
    }

    /**
     * The processors {@code params} switches on, in transformers' order (the warpers only when
     * sampling). An empty list means the raw logits are used as they are.
     *
     * @param seen [B, V] BOOLEAN tokens already in each row, needed when a repetition penalty is set
     */
    public static List<UnaryOperator<NDArray>> pipeline(SamplingParams params, NDArray seen) {
        List<UnaryOperator<NDArray>> out = new ArrayList<>();
        if (params.repetitionPenalty() != 1.0) {
            out.add(s -> repetitionPenalty(s, seen, params.repetitionPenalty()));
        }
        if (!params.isGreedy()) {
            if (params.temperature() != 1.0) {
                out.add(s -> temperature(s, params.temperature()));
            }
            if (params.topK() > 0) {
                out.add(s -> topK(s, params.topK()));
            }
            if (params.topP() < 1.0) {
                out.add(s -> topP(s, params.topP()));
            }
            if (params.minP() > 0) {
                out.add(s -> minP(s, params.minP()));
            }
        }
        return out;
    }

    /** Applies {@code pipeline} to {@code scores} in order. */
    public static NDArray apply(List<UnaryOperator<NDArray>> pipeline, NDArray scores) {
        NDArray s = scores;
        for (UnaryOperator<NDArray> p : pipeline) {
            s = p.apply(s);
        }
        return s;
    }

    /** torch.where with broadcasting (DJL's own {@code where} refuses shapes that differ). */
    static NDArray where(NDArray condition, NDArray a, NDArray b) {
        return JniUtils.where((PtNDArray) condition, (PtNDArray) a, (PtNDArray) b);
    }

    private static NDArray negInf(NDManager m) {
        return Tensors.scalar(m, Float.NEGATIVE_INFINITY);
    }
}
