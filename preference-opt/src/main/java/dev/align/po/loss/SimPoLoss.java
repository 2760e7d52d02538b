package dev.align.po.loss;

import ai.djl.ndarray.NDArray;

/**
 * SimPO (Meng et al. 2024, "SimPO: Simple Preference Optimization with a Reference-Free Reward",
 * eq. 6): reference-free, on length-normalised log-probs with a target margin γ, and the same label
 * smoothing ε as cDPO:
 *
 * <pre>
 *   z    = β·(log π(c)/n_c − log π(r)/n_r) − γ
 *   loss = mean[ −(1 − ε)·log σ(z) − ε·log σ(−z) ]
 * </pre>
 *
 * Rewards are β·log π/n per completion.
 */
public final class SimPoLoss implements PreferenceLoss {
    private final double beta;
    private final double gamma;
    private final double labelSmoothing;

    public SimPoLoss(double beta, double gamma, double labelSmoothing) {
        this.beta = beta;
        this.gamma = gamma;
        this.labelSmoothing = labelSmoothing;
    }

    @Override
    public boolean referenceFree() {
        return true;
    }

    @Override
    public Output compute(SequenceLogps policy, SequenceLogps reference) {
        NDArray b = Ops.c(policy.chosen(), beta);
        NDArray c = policy.chosenMean().mul(b); // [P]
        NDArray r = policy.rejectedMean().mul(b);
        NDArray z = c.sub(r).sub(Ops.c(c, gamma));
        NDArray loss = Ops.logSigmoid(z).mul(Ops.c(z, -(1 - labelSmoothing)));
        if (labelSmoothing > 0) {
            loss = loss.sub(Ops.logSigmoid(z.neg()).mul(Ops.c(z, labelSmoothing)));
        }
        return new Output(loss.mean(), c.stopGradient(), r.stopGradient());
    }
}
