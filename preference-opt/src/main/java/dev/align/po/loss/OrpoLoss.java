package dev.align.po.loss;

import ai.djl.ndarray.NDArray;

/**
 * ORPO (Hong et al. 2024, "ORPO: Monolithic Preference Optimization without Reference Model",
 * eqs. 6–7): supervised NLL on the chosen completions plus an odds-ratio penalty weighted by λ = β:
 *
 * <pre>
 *   p̄      = log π(y)/n_y                      (length-averaged log-prob)
 *   logodds = (p̄_c − p̄_r) − (log(1 − e^{p̄_c}) − log(1 − e^{p̄_r}))
 *   loss    = NLL_c − β·mean[ log σ(logodds) ]
 * </pre>
 *
 * NLL_c is the token-mean cross-entropy over all chosen tokens of the batch. Rewards are β·p̄.
 */
public final class OrpoLoss implements PreferenceLoss {
    private final double beta;

    public OrpoLoss(double beta) {
        this.beta = beta;
    }

    @Override
    public boolean referenceFree() {
        return true;
    }

    @Override
    public Output compute(SequenceLogps policy, SequenceLogps reference) {
        NDArray pc = policy.chosenMean(); // [P]
        NDArray pr = policy.rejectedMean();
        NDArray one = Ops.c(pc, 1);
        NDArray logOdds = pc.sub(pr).sub(one.sub(pc.exp()).log().sub(one.sub(pr.exp()).log()));
        NDArray nll = policy.chosen().sum().neg().div(policy.chosenTokens().sum());
        NDArray b = Ops.c(pc, beta);
        NDArray loss = nll.sub(Ops.logSigmoid(logOdds).mean().mul(b));
        return new Output(loss, pc.mul(b).stopGradient(), pr.mul(b).stopGradient());
    }
}
