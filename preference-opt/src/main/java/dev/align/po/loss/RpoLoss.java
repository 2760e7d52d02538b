package dev.align.po.loss;

import ai.djl.ndarray.NDArray;

/**
 * Any preference objective plus α times the negative log-likelihood of the chosen completions (RPO,
 * Pang et al. 2024, "Iterative Reasoning Preference Optimization", eq. 1; TRL's {@code rpo_alpha}):
 *
 * <pre>
 *   loss = loss_pref + α · NLL_c,     NLL_c = −Σ log π(chosen tokens) / Σ n_c
 * </pre>
 *
 * The NLL term keeps the policy's likelihood of the preferred answers up while the preference term moves
 * it away from the rejected ones, which stops the collapse to degenerate text that plain DPO shows on
 * small models. Rewards are the wrapped objective's.
 */
public final class RpoLoss implements PreferenceLoss {
    private final PreferenceLoss inner;
    private final double alpha;

    public RpoLoss(PreferenceLoss inner, double alpha) {
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw new IllegalArgumentException("rpo_alpha must be positive, got " + alpha);
        }
        this.inner = inner;
        this.alpha = alpha;
    }

    @Override
    public boolean referenceFree() {
        return inner.referenceFree();
    }

    @Override
    public Output compute(SequenceLogps policy, SequenceLogps reference) {
        Output o = inner.compute(policy, reference);
        NDArray nll = policy.chosen().sum().neg().div(policy.chosenTokens().sum());
        return new Output(o.loss().add(nll.mul(Ops.c(nll, alpha))), o.chosenRewards(), o.rejectedRewards());
    }
}
