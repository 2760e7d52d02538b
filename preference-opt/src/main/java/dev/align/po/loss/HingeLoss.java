package dev.align.po.loss;

import ai.djl.ndarray.NDArray;

/**
 * Hinge loss on the DPO log-ratio (SLiC, Zhao et al. 2023, "Calibrating Sequence Likelihood"):
 *
 * <pre>
 *   loss = mean[ max(0, 1 − β·h) ]
 * </pre>
 *
 * with h as in {@link SigmoidLoss}. At π = ref the loss is 1.
 */
public final class HingeLoss implements PreferenceLoss {
    private final double beta;

    public HingeLoss(double beta) {
        this.beta = beta;
    }

    @Override
    public boolean referenceFree() {
        return false;
    }

    @Override
    public Output compute(SequenceLogps policy, SequenceLogps reference) {
        NDArray bh = Ops.logits(policy, reference).mul(Ops.c(policy.chosen(), beta)); // [P]
        NDArray loss = Ops.c(bh, 1).sub(bh).getNDArrayInternal().relu();
        NDArray[] r = Ops.rewards(policy, reference, beta);
        return new Output(loss.mean(), r[0], r[1]);
    }
}
