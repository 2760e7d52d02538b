package dev.align.po.loss;

import ai.djl.ndarray.NDArray;

/**
 * Robust DPO (Chowdhury et al. 2024, "Provably Robust DPO"), unbiased under preference noise with
 * flip rate ε:
 *
 * <pre>
 *   loss = mean[ (−(1 − ε)·log σ(β·h) + ε·log σ(−β·h)) / (1 − 2ε) ]
 * </pre>
 *
 * with h as in {@link SigmoidLoss}. ε must be below 0.5.
 */
public final class RobustLoss implements PreferenceLoss {
    private final double beta;
    private final double eps;

    public RobustLoss(double beta, double labelSmoothing) {
        if (labelSmoothing < 0 || labelSmoothing >= 0.5) {
            throw new IllegalArgumentException("robust DPO needs label_smoothing in [0, 0.5), got " + labelSmoothing);
        }
        this.beta = beta;
        this.eps = labelSmoothing;
    }

    @Override
    public boolean referenceFree() {
        return false;
    }

    @Override
    public Output compute(SequenceLogps policy, SequenceLogps reference) {
        NDArray bh = Ops.logits(policy, reference).mul(Ops.c(policy.chosen(), beta)); // [P]
        NDArray loss = Ops.logSigmoid(bh).mul(Ops.c(bh, -(1 - eps)))
                .add(Ops.logSigmoid(bh.neg()).mul(Ops.c(bh, eps)))
                .mul(Ops.c(bh, 1 / (1 - 2 * eps)));
        NDArray[] r = Ops.rewards(policy, reference, beta);
        return new Output(loss.mean(), r[0], r[1]);
    }
}
