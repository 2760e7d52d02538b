package dev.align.rm;

import dev.align.core.BadInputException;

/**
 * The reward-model recipe's own keys (TRL's {@code RewardConfig} beyond {@code TrainingArguments}),
 * bound with {@code core.train.TrainingArgs} and {@code datasets.DataSettings} from one flat namespace.
 *
 * @param centerRewardsCoefficient η of the reward-centering term {@code η·mean((r_c + r_r)²)} (Eisenstein
 *     et al. 2023); null (TRL's default) for none
 * @param scoreInitStd σ of a freshly initialised score head; null for 1/sqrt(hidden + 1)
 */
public record RmArgs(Double centerRewardsCoefficient, Double scoreInitStd) {

    /** TRL's defaults: no centering; the head initialised with σ = 1/sqrt(hidden + 1). */
    public static RmArgs defaults() {
        return new RmArgs(null, null);
    }

    /** η, 0 when off. */
    public double center() {
        return centerRewardsCoefficient == null ? 0 : centerRewardsCoefficient;
    }

    /** Checks the values; errors name the key. */
    public RmArgs validate() {
        if (centerRewardsCoefficient != null && !(centerRewardsCoefficient >= 0)) {
            throw new BadInputException("center_rewards_coefficient: must be ≥ 0, got " + centerRewardsCoefficient);
        }
        if (scoreInitStd != null && !(scoreInitStd > 0)) {
            throw new BadInputException("score_init_std: must be > 0, got " + scoreInitStd);
        }
        return this;
    }
}
