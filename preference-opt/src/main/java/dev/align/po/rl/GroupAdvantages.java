package dev.align.po.rl;

import ai.djl.ndarray.NDArray;
import dev.align.core.nd.Tensors;

/**
 * GRPO's group-relative advantages (Shao et al. 2024, "DeepSeekMath", §4.1.2): each prompt's G sampled
 * completions are compared with each other,
 *
 * <pre>
 *   A_i = (R_i − mean_g(R)) / (std_g(R) + 1e-4)          (std unbiased, as torch.std)
 * </pre>
 *
 * or without the division when {@code scale} is false (Dr. GRPO, Liu et al. 2025).
 */
public final class GroupAdvantages {
    private GroupAdvantages() {}

    /**
     * @param advantages [N] one advantage per completion
     * @param groupStd [N/G] reward standard deviation of each group
     * @param fracZeroStd fraction of groups whose rewards are all equal (no learning signal)
     */
    public record Result(NDArray advantages, NDArray groupStd, float fracZeroStd) {}

    /**
     * @param rewards [N] rewards, the G completions of each prompt consecutive
     * @param g completions per prompt (≥ 2)
     */
    public static Result compute(NDArray rewards, int g, boolean scale) {
        long n = rewards.getShape().get(0);
        NDArray grouped = rewards.reshape(n / g, g); // [P,G]
        NDArray mean = grouped.mean(new int[] {1}, true); // [P,1]
        NDArray centered = grouped.sub(mean);
        NDArray var = centered.mul(centered).sum(new int[] {1}, true).div(Tensors.scalar(rewards.getManager(), g - 1f));
        NDArray std = var.sqrt(); // [P,1]
        NDArray adv = scale ? centered.div(std.add(Tensors.scalar(rewards.getManager(), 1e-4f))) : centered;
        float[] s = std.toFloatArray();
        int zero = 0;
        for (float v : s) {
            zero += Math.abs(v) < 1e-6 ? 1 : 0;
        }
        return new Result(adv.reshape(n), std.reshape(n / g), (float) zero / s.length);
    }
}
