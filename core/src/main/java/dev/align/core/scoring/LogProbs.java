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
        try (NDArray logp = logits.logSoftmax(-1); // [B,T,V]
                NDArray idx = labels.expandDims(-1);
                NDArray picked = logp.gather(idx, -1)) { // [B,T,1]
            return picked.squeeze(-1);
        }
    }

    /**
     * The model's per-token log-probs for a batch: [B, T], zero where no label counts.
     *
     * @param t the batch's tensors
     */
    public static NDArray forBatch(DecoderLM model, TokenBatch.Tensors4 t) {
        try (NDArray hidden = model.hidden(t.ids(), t.positions(), t.mask(), null); // [B,T,H]
                NDArray logits = model.logits(hidden); // [B,T,V]
                NDArray lp = tokenLogProbs(logits, t.labels())) {
            return lp.mul(t.weights()); // [B,T]
        }
    }
}
