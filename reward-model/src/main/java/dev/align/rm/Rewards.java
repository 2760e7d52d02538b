package dev.align.rm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.AttentionMask;
import dev.align.core.model.DecoderLM;
import dev.align.core.nd.Tensors;

/**
 * The reward-model forward: one scalar per row of a batch, read by the score head at the row's rightmost
 * non-pad token (under the shared tokenization convention, the appended eos). Every row is computed once
 * in one batched forward; no per-token loops.
 */
public final class Rewards {
    private Rewards() {}

    /**
     * Rewards of the rows of {@code batch}.
     *
     * @param model a sequence-classification model with one label
     * @param batch R right-padded rows (segments mark the tokens; 0 = padding)
     * @param m the manager the step's arrays go to (wrap the call in an NDScope)
     * @return [R] FLOAT32; differentiable when called inside a GradientCollector
     */
    public static NDArray forward(DecoderLM model, TokenBatch batch, NDManager m) {
        Shape s = new Shape(batch.rows(), batch.length());
        NDArray ids = Tensors.longs(m, batch.ids(), s); // [R,T]
        NDArray positions = Tensors.longs(m, batch.positions(), s); // [R,T]
        NDArray mask = AttentionMask.causal(m, batch.segments(), batch.rows(), batch.length(),
                model.config().slidingWindow()); // [R,1,T,T]
        NDArray hidden = model.hidden(ids, positions, mask, null); // [R,T,H]
        NDArray last = Tensors.longs(m, batch.lastTokenIndex(), new Shape(batch.rows())); // [R]
        return model.score(hidden, last).reshape(batch.rows()); // [R,1] -> [R]
    }
}
