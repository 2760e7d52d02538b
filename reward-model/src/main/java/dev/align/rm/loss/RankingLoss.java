package dev.align.rm.loss;

import ai.djl.ndarray.NDArray;
import dev.align.core.nd.Tensors;

/**
 * InstructGPT's K-wise ranking loss (Ouyang et al. 2022, eq. 1): every prompt contributes all of its
 * ranked pairs, each weighted 1/(its number of pairs) — 1/C(K,2) with K responses and no ties — so every
 * prompt counts equally, and the batch loss is the mean over prompts:
 *
 * <pre>
 *   loss = (1/G) Σ_prompts (1/|pairs_g|) Σ_{(w,l) ∈ pairs_g} −log σ(r_w − r_l − m_wl)  + η·mean_pairs[(r_w + r_l)²]
 * </pre>
 *
 * Rewards are computed once per response (not once per pair); pairs index into them.
 */
public final class RankingLoss {
    private final double centerCoefficient;

    /** @param centerCoefficient η (0 = off), applied over all pairs */
    public RankingLoss(double centerCoefficient) {
        this.centerCoefficient = centerCoefficient;
    }

    /**
     * @param rewards [R] one reward per response in the batch
     * @param better [Q] INT64 index of the preferred response of each pair
     * @param worse [Q] INT64 index of the other response
     * @param weight [Q] 1/(pairs of that pair's prompt)/(prompts in the batch), so weights sum to 1
     * @param margin [Q] margins, or null
     * @return 0-dim loss
     */
    public NDArray compute(NDArray rewards, NDArray better, NDArray worse, NDArray weight, NDArray margin) {
        NDArray rw = rewards.get(better); // [Q]
        NDArray rl = rewards.get(worse);
        NDArray d = rw.sub(rl);
        if (margin != null) {
            d = d.sub(margin);
        }
        NDArray loss = d.neg().getNDArrayInternal().softPlus().mul(weight).sum();
        if (centerCoefficient != 0) {
            NDArray s = rw.add(rl);
            loss = loss.add(s.mul(s).mean().mul(Tensors.scalar(rewards.getManager(), (float) centerCoefficient)));
        }
        return loss;
    }

    /** The pair weights for pairs grouped by prompt: {@code groupOfPair[q]} is the prompt of pair q. */
    public static float[] weights(int[] groupOfPair) {
        int groups = 0;
        for (int g : groupOfPair) {
            groups = Math.max(groups, g + 1);
        }
        int[] count = new int[groups];
        for (int g : groupOfPair) {
            count[g]++;
        }
        int nonEmpty = 0;
        for (int c : count) {
            nonEmpty += c > 0 ? 1 : 0;
        }
        float[] w = new float[groupOfPair.length];
        for (int q = 0; q < w.length; q++) {
            w[q] = (float) (1.0 / count[groupOfPair[q]] / nonEmpty);
        }
        return w;
    }
}
