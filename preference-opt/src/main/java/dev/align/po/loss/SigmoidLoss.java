package dev.align.po.loss;

import ai.djl.ndarray.NDArray;

/**
 * DPO (Rafailov et al. 2023, "Direct Preference Optimization", eq. 7) with optional label smoothing
 * ε (conservative DPO, cDPO; Mitchell 2023):
 *
 * <pre>
 *   h    = (log π(c) − log π(r)) − (log ref(c) − log ref(r))
 *   loss = mean[ −(1 − ε)·log σ(β·h) − ε·log σ(−β·h) ]
 * </pre>
 *
 * Rewards are β·(log π − log ref) per completion. At π = ref the loss is log 2.
 */
public final class SigmoidLoss implements PreferenceLoss {
    private final double beta;
    private final double labelSmoothing;

    public SigmoidLoss(double beta, double labelSmoothing) {
        if (labelSmoothing < 0 || labelSmoothing > 0.5) {
            throw new IllegalArgumentException("label_smoothing must be in [0, 0.5], got " + labelSmoothing);
        }
        this.beta = beta;
        this.labelSmoothing = labelSmoothing;
    }

    @Override
    public boolean referenceFree() {
        return false;
    }

    @Override
    public Output compute(SequenceLogps policy, SequenceLogps reference) {
        NDArray bh = Ops.logits(policy, reference).mul(Ops.c(policy.chosen(), beta)); // [P]
        NDArray loss = Ops.logSigmoid(bh).mul(Ops.c(bh, -(1 - labelSmoothing)));
        if (labelSmoothing > 0) {
            loss = loss.sub(Ops.logSigmoid(bh.neg()).mul(Ops.c(bh, labelSmoothing)));
        }
        NDArray[] r = Ops.rewards(policy, reference, beta);
        return new Output(loss.mean(), r[0], r[1]);
    }
}
