package dev.align.po.rollout;

import dev.align.core.BadInputException;
import java.util.List;

/**
 * The reward keys PPO and GRPO share, bound with the method's own keys from one flat namespace.
 *
 * @param rewardFuncs reward functions: built-in names ({@code exact_match}, {@code regex},
 *     {@code length_penalty}) or fully qualified names of classes implementing {@link RewardFunction}
 * @param rewardWeights one weight per reward function (null: 1 each), TRL's {@code reward_weights}
 * @param rewardModel a reward model directory (HF {@code *ForSequenceClassification}, one label) whose
 *     score is added; null for none
 * @param rewardModelWeight the reward model's weight
 * @param regexPattern the pattern of the {@code regex} reward (java.util.regex, found anywhere)
 * @param regexScore the {@code regex} reward of a completion the pattern is found in
 * @param lengthPenaltyMax L_max of {@code length_penalty}; null for the maximum completion length
 * @param lengthPenaltyCache L_cache of {@code length_penalty}; null for L_max / 5
 * @param missingEosPenalty subtracted from the reward of a completion that did not end with eos (TRL's
 *     {@code missing_eos_penalty}); null for none
 */
public record RewardArgs(
        List<String> rewardFuncs,
        List<Double> rewardWeights,
        String rewardModel,
        double rewardModelWeight,
        String regexPattern,
        double regexScore,
        Integer lengthPenaltyMax,
        Integer lengthPenaltyCache,
        Double missingEosPenalty) {

    public RewardArgs {
        rewardFuncs = rewardFuncs == null ? List.of() : List.copyOf(rewardFuncs);
    }

    /** No reward source: the method's defaults or config must name one. */
    public static RewardArgs defaults() {
        return new RewardArgs(List.of(), null, null, 1.0, null, 1.0, null, null, null);
    }

    /** These keys with other reward functions. */
    public RewardArgs withRewardFuncs(List<String> funcs) {
        return new RewardArgs(funcs, rewardWeights, rewardModel, rewardModelWeight, regexPattern, regexScore,
                lengthPenaltyMax, lengthPenaltyCache, missingEosPenalty);
    }

    /** Checks the values; errors name the key. */
    public RewardArgs validate() {
        if (rewardFuncs.isEmpty() && (rewardModel == null || rewardModel.isBlank())) {
            throw new BadInputException("reward_funcs: no reward: name reward functions (reward_funcs: [exact_match])"
                    + " and/or a reward model (reward_model: DIR)");
        }
        if (rewardWeights != null && rewardWeights.size() != rewardFuncs.size()) {
            throw new BadInputException("reward_weights: " + rewardWeights.size() + " weights for " + rewardFuncs.size()
                    + " reward functions " + rewardFuncs);
        }
        if (rewardWeights != null) {
            for (Double w : rewardWeights) {
                if (w == null || !Double.isFinite(w)) {
                    throw new BadInputException("reward_weights: every weight must be a finite number, got " + rewardWeights);
                }
            }
        }
        if (!Double.isFinite(rewardModelWeight)) {
            throw new BadInputException("reward_model_weight: must be a finite number");
        }
        if (missingEosPenalty != null && !(missingEosPenalty >= 0)) {
            throw new BadInputException("missing_eos_penalty: must be ≥ 0 (it is subtracted), got " + missingEosPenalty);
        }
        return this;
    }

    /** The weight of reward function {@code i}. */
    public double weight(int i) {
        return rewardWeights == null ? 1.0 : rewardWeights.get(i);
    }
}
