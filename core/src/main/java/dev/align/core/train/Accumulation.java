package dev.align.core.train;

import ai.djl.ndarray.NDArray;
import dev.align.core.data.TokenBatch;
import dev.align.core.nd.Tensors;
import java.util.List;

/**
 * Gradient accumulation: N micro-batches, one backward each, one optimizer step, with the same gradient
 * as one batch made of all of them. Gradients add up across backward calls, so each micro-batch's loss
 * is scaled by its share of the whole batch:
 *
 * <ul>
 *   <li><b>Token-mean losses</b> (SFT cross-entropy, any loss averaged over labelled tokens): the loss of
 *       the whole batch is {@code Σ_tokens ℓ / T} with T the labelled tokens of all N micro-batches (what
 *       transformers calls {@code num_items_in_batch}). Micro-batch i contributes
 *       {@code Σ_{tokens of i} ℓ / T}, i.e. its own token mean times {@code T_i / T}
 *       ({@link #tokenShare}). Micro-batches with more tokens weigh more, as they would in one batch.
 *   <li><b>Example-mean losses</b> (DPO and reward-model losses, averaged over pairs or sequences): its
 *       own mean times {@code B_i / B} ({@link #rowShare}); 1/N when all micro-batches are equal.
 * </ul>
 *
 * The step's loss to log is the sum of the scaled micro-batch losses (the big batch's loss).
 */
public final class Accumulation {
    private Accumulation() {}

    /** {@code T_i / T}: the weight of a micro-batch's token-mean loss. */
    public static double tokenShare(long microTokens, long totalTokens) {
        if (totalTokens <= 0 || microTokens < 0 || microTokens > totalTokens) {
            throw new IllegalArgumentException("bad token counts: " + microTokens + " of " + totalTokens);
        }
        return (double) microTokens / (double) totalTokens;
    }

    /** {@code B_i / B}: the weight of a micro-batch's example-mean loss. */
    public static double rowShare(long microRows, long totalRows) {
        if (totalRows <= 0 || microRows < 0 || microRows > totalRows) {
            throw new IllegalArgumentException("bad row counts: " + microRows + " of " + totalRows);
        }
        return (double) microRows / (double) totalRows;
    }

    /** Labelled tokens in all micro-batches of one optimizer step (transformers' num_items_in_batch). */
    public static long labelTokens(List<TokenBatch> microBatches) {
        long n = 0;
        for (TokenBatch b : microBatches) {
            n += b.labelCount();
        }
        return n;
    }

    /**
     * {@code loss · factor}, differentiable: the factor is a 0-dim engine constant in the loss's manager,
     * never a Java number on the tape (docs/architecture.md, engine rule 1).
     */
    public static NDArray scale(NDArray loss, double factor) {
        return loss.mul(Tensors.scalar(loss.getManager(), (float) factor));
    }
}
