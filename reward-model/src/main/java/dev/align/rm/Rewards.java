package dev.align.rm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.DecoderLM;
import dev.align.core.scoring.RewardScoring;

/**
 * The reward-model forward: one scalar per row of a batch, read by the score head at the row's rightmost
 * non-pad token (under the shared tokenization convention, the appended eos). Every row is computed once
 * in one batched forward; no per-token loops. Delegates to {@link RewardScoring#forward}, the core both the
 * reward-model recipe and the online RL recipes use.
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
        return RewardScoring.forward(model, batch, m);
    }
}
