package dev.align.po.dpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.DecoderLM;
import dev.align.core.scoring.LogProbs;
import dev.align.po.loss.SequenceLogps;

/**
 * A preference batch through a model in ONE forward of its 2P rows (chosen rows 0..P−1, rejected rows
 * P..2P−1, as {@code datasets.batch.PreferenceBatch} lays them out): per row, the sum of the completion
 * tokens' log-probs (eos included) and the number of those tokens; and, read off the same logits without
 * a second pass, TRL's {@code logits/*} numerators.
 *
 * <p>Inside a {@code GradientCollector} the sums carry the graph; outside one (reference, evaluation)
 * nothing is recorded. The logits statistics are always detached.
 */
public final class PairForward {
    private PairForward() {}

    /**
     * One forward's results.
     *
     * @param logps [P] sums and [P] token counts of chosen and rejected
     * @param chosenLogitSum [P] per chosen row, Σ over its completion positions of the vocabulary-mean
     *     logit (detached); null when not asked for
     * @param rejectedLogitSum [P] the same for the rejected rows; null when not asked for
     */
    public record Result(SequenceLogps logps, NDArray chosenLogitSum, NDArray rejectedLogitSum) {}

    /**
     * Runs {@code model} on the batch.
     *
     * @param t the batch's tensors, 2P rows
     * @param withLogits also compute the logits statistics (the policy's; the reference needs none)
     */
    public static Result run(DecoderLM model, TokenBatch.Tensors4 t, boolean withLogits) {
        NDArray hidden = model.hidden(t.ids(), t.positions(), t.mask(), null); // [2P,T,H]
        NDArray logits = model.logits(hidden); // [2P,T,V]
        NDArray tokenLp = LogProbs.tokenLogProbs(logits, t.labels()).mul(t.weights()); // [2P,T], 0 off the completions
        NDList sums = tokenLp.sum(new int[] {1}).split(2, 0); // 2 × [P]
        NDList counts = t.weights().sum(new int[] {1}).split(2, 0); // 2 × [P]
        SequenceLogps lp = new SequenceLogps(sums.get(0), sums.get(1), counts.get(0), counts.get(1));
        if (!withLogits) {
            return new Result(lp, null, null);
        }
        NDArray vocabMean = logits.stopGradient().mean(new int[] {2}); // [2P,T], detached
        NDList logitSums = vocabMean.mul(t.weights()).sum(new int[] {1}).split(2, 0); // 2 × [P]
        return new Result(lp, logitSums.get(0), logitSums.get(1));
    }
}
