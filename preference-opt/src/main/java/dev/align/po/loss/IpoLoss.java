package dev.align.po.loss;

import ai.djl.ndarray.NDArray;

/**
 * IPO (Azar et al. 2023, "A General Theoretical Paradigm to Understand Learning from Human
 * Preferences", eq. 17), on length-averaged log-ratios as TRL computes it:
 *
 * <pre>
 *   h'   = (log π(c) − log ref(c))/n_c − (log π(r) − log ref(r))/n_r
 *   loss = mean[ (h' − 1/(2β))² ]
 * </pre>
 *
 * Rewards are β·(log π − log ref) on sums, as for DPO. At π = ref the loss is 1/(2β)².
 */
public final class IpoLoss implements PreferenceLoss {
    private final double beta;

    public IpoLoss(double beta) {
        this.beta = beta;
    }

    @Override
    public boolean referenceFree() {
        return false;
    }

    @Override
    public Output compute(SequenceLogps policy, SequenceLogps reference) {
        NDArray hc = policy.chosen().sub(reference.chosen()).div(policy.chosenTokens()); // [P]
        NDArray hr = policy.rejected().sub(reference.rejected()).div(policy.rejectedTokens());
        NDArray d = hc.sub(hr).sub(Ops.c(hc, 1 / (2 * beta)));
        NDArray[] r = Ops.rewards(policy, reference, beta);
        return new Output(d.mul(d).mean(), r[0], r[1]);
    }
}
