package dev.align.po.loss;

import ai.djl.ndarray.NDArray;

/**
 * A preference-optimisation objective over a batch of pairs. Implementations are small, stateless
 * apart from their hyper-parameters, and state their maths and paper in their javadoc.
 */
public interface PreferenceLoss {

    /**
     * The loss and the implicit rewards of a batch.
     *
     * @param loss 0-dim batch loss (differentiable)
     * @param chosenRewards [P] rewards of the chosen completions (detached; for metrics)
     * @param rejectedRewards [P] rewards of the rejected completions (detached; for metrics)
     */
    record Output(NDArray loss, NDArray chosenRewards, NDArray rejectedRewards) {}

    /** Whether the objective needs no reference model (SimPO, ORPO). */
    boolean referenceFree();

    /**
     * Computes the loss.
     *
     * @param policy the policy's log-probs (with gradients)
     * @param reference the reference's log-probs (no gradients), or null if {@link #referenceFree()}
     */
    Output compute(SequenceLogps policy, SequenceLogps reference);
}
