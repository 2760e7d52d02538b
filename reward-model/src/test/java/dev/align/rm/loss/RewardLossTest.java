package dev.align.rm.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.align.core.Engines;
import dev.align.core.nd.Tensors;
import org.junit.jupiter.api.Test;

/** Reward-model objectives against hand-computed values (ties, margins, K = 4 rankings). */
class RewardLossTest {

    private static double softplusNeg(double d) {
        return Math.log1p(Math.exp(-d));
    }

    @Test
    void pairwiseWithMarginAndCentering() {
        try (NDManager m = Engines.newManager()) {
            NDArray c = Tensors.floats(m, new float[] {2f, 0.5f, -1f}, new Shape(3));
            NDArray r = Tensors.floats(m, new float[] {1f, 0.5f, 1f}, new Shape(3));
            NDArray margin = Tensors.floats(m, new float[] {0.5f, 0f, 1f}, new Shape(3));
            double plain = (softplusNeg(1) + softplusNeg(0) + softplusNeg(-2)) / 3;
            assertEquals(plain, new PairwiseLoss(0).compute(c, r, null).getFloat(), 1e-6);
            // a tie (0.5 vs 0.5) costs log 2
            assertEquals(Math.log(2), new PairwiseLoss(0).compute(c.get("1:2"), r.get("1:2"), null).getFloat(), 1e-6);
            double withMargin = (softplusNeg(0.5) + softplusNeg(0) + softplusNeg(-3)) / 3;
            assertEquals(withMargin, new PairwiseLoss(0).compute(c, r, margin).getFloat(), 1e-6);
            double center = (9 + 1 + 0) / 3.0;
            assertEquals(plain + 0.01 * center, new PairwiseLoss(0.01).compute(c, r, null).getFloat(), 1e-6);
        }
    }

    /**
     * Two prompts: one with K = 4 responses (6 pairs), one with K = 3 and a tie (2 pairs). Each prompt's
     * pairs share 1/|pairs|; the prompts are averaged; the gradient of each reward is checked by hand.
     */
    @Test
    void kWiseRankingWeightsPromptsEqually() {
        int[] group = {0, 0, 0, 0, 0, 0, 1, 1};
        float[] w = RankingLoss.weights(group);
        assertArrayEquals(new float[] {1f / 12, 1f / 12, 1f / 12, 1f / 12, 1f / 12, 1f / 12, 0.25f, 0.25f}, w, 1e-7f);
        // prompt 0: responses 0..3 ranked 0 > 1 > 2 > 3; prompt 1: responses 4,5,6 with 5 tied to 6, both below 4
        float[] rewards = {3f, 1f, 0.5f, -2f, 1f, 0f, 0f};
        long[] better = {0, 0, 0, 1, 1, 2, 4, 4};
        long[] worse = {1, 2, 3, 2, 3, 3, 5, 6};
        double expected = 0;
        double[] grad = new double[rewards.length];
        for (int q = 0; q < better.length; q++) {
            double d = rewards[(int) better[q]] - rewards[(int) worse[q]];
            expected += w[q] * softplusNeg(d);
            double g = -w[q] / (1 + Math.exp(d)); // d/dd softplus(−d) = −σ(−d)
            grad[(int) better[q]] += g;
            grad[(int) worse[q]] -= g;
        }
        try (NDManager m = Engines.newManager()) {
            NDArray r = Tensors.floats(m, rewards, new Shape(rewards.length));
            r.setRequiresGradient(true);
            NDArray loss;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                loss = new RankingLoss(0).compute(r, Tensors.longs(m, better, new Shape(8)), Tensors.longs(m, worse, new Shape(8)),
                        Tensors.floats(m, w, new Shape(8)), null);
                gc.backward(loss);
            }
            assertEquals(expected, loss.getFloat(), 1e-6);
            float[] g = r.getGradient().toFloatArray();
            for (int i = 0; i < g.length; i++) {
                assertEquals(grad[i], g[i], 1e-6, "d loss / d r" + i);
            }
        }
    }
}
