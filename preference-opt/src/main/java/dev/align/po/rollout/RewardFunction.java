package dev.align.po.rollout;

import java.util.List;

/**
 * A rule that scores completions: the Java side of TRL's {@code reward_funcs}. GRPO and PPO call it once
 * per rollout batch with every completion of the batch and add its scores, weighted, to the reward.
 *
 * <p>To use your own, implement this interface in a public class with a public no-argument constructor,
 * put it on the class path, and name it by its fully qualified class name in the config:
 *
 * <pre>
 *   reward_funcs: [exact_match, com.example.rewards.Politeness]
 *   reward_weights: [1.0, 0.5]
 * </pre>
 *
 * Built-ins: {@code exact_match} ({@link ExactMatch}), {@code regex} ({@link RegexReward}),
 * {@code length_penalty} ({@link LengthPenalty}).
 */
public interface RewardFunction {
    /**
     * One reward per completion, in order.
     *
     * @return an array of {@code batch.size()} finite numbers
     */
    float[] score(RewardBatch batch);

    /**
     * Extra columns every prompt record must have (checked for every record of the train and eval files
     * before any model is loaded); none by default.
     */
    default List<String> requiredFields() {
        return List.of();
    }
}
