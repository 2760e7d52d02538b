package dev.align.core.scoring;

import ai.djl.ndarray.NDArray;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.DecoderLM;

/**
 * Log-probabilities of labelled tokens, the quantity SFT, DPO and PPO are built on.
 *
 * <p>{@code log p(label_t | tokens ≤ t) = logits_t[label_t] − logsumexp(logits_t)}, taken from the
 * log-softmax of the whole vocabulary row and gathered at the label.
 */
public final class LogProbs {
    private LogProbs() {}

    /**
     * Per-token log-probs of the labels.
     *
     * @param logits [B, T, V]
     * @param labels [B, T] INT64 (any valid id where ignored)
     * @return [B, T]
     */
    public static NDArray tokenLogProbs(NDArray logits, NDArray labels) {
        return logits.logSoftmax(-1).gather(labels.expandDims(-1), -1).squeeze(-1);
    }

    /**
     * The model's per-token log-probs for a batch: [B, T], zero where no label counts.
     *
     * @param t the batch's tensors
     */
    public static NDArray forBatch(DecoderLM model, TokenBatch.Tensors4 t) {
        NDArray hidden = model.hidden(t.ids(), t.positions(), t.mask(), null); // [B,T,H]
        NDArray logits = model.logits(hidden); // [B,T,V]
        return tokenLogProbs(logits, t.labels()).mul(t.weights()); // [B,T]
    }
}
