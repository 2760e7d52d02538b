package dev.align.rm.loss;

import ai.djl.ndarray.NDArray;
import dev.align.core.nd.Tensors;

/**
 * Bradley-Terry pairwise loss for reward models (Ouyang et al. 2022, eq. 1; TRL's RewardTrainer), with
 * an optional per-pair margin (Llama 2, Touvron et al. 2023, eq. 2) and reward centering (Eisenstein et
 * al. 2023) weighted by η:
 *
 * <pre>
 *   loss = mean[ −log σ(r_c − r_r − m) ] + η·mean[ (r_c + r_r)² ]
 * </pre>
 */
public final class PairwiseLoss {
    private final double centerCoefficient;

    /** @param centerCoefficient η, TRL's {@code center_rewards_coefficient} (0 = off) */
    public PairwiseLoss(double centerCoefficient) {
        this.centerCoefficient = centerCoefficient;
    }

    /**
     * @param chosen [P] rewards of the preferred responses
     * @param rejected [P] rewards of the other responses
     * @param margin [P] margins, or null for none
     * @return 0-dim loss
     */
    public NDArray compute(NDArray chosen, NDArray rejected, NDArray margin) {
        NDArray d = chosen.sub(rejected); // [P]
        if (margin != null) {
            d = d.sub(margin);
        }
        NDArray loss = d.neg().getNDArrayInternal().softPlus().mean(); // −log σ(d) = softplus(−d)
        if (centerCoefficient != 0) {
            NDArray s = chosen.add(rejected);
            loss = loss.add(s.mul(s).mean().mul(Tensors.scalar(chosen.getManager(), (float) centerCoefficient)));
        }
        return loss;
    }
}
