package dev.align.po.ppo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.align.core.Engines;
import dev.align.core.nd.Tensors;
import dev.align.po.rl.KlEstimator;
import dev.align.po.rollout.RolloutBatch;
import java.util.List;
import org.junit.jupiter.api.Test;

/** PPO's reward shaping and targets against values computed by hand and by TRL's loop form. */
class PpoTargetsTest {

    /** KL folded into the rewards, the score on the last REAL token (not on padding), k1 and k3. */
    @Test
    void klPenaltyAndScoreOnTheLastRealToken() {
        try (NDManager m = Engines.newManager()) {
            Shape s = new Shape(2, 4);
            var logp = Tensors.floats(m, new float[] {-1, -2, -0.5f, 0, -1, -1, -1, -1}, s);
            var ref = Tensors.floats(m, new float[] {-1.5f, -2, -1, -7, -0.5f, -1, -2, -1}, s);
            var mask = Tensors.floats(m, new float[] {1, 1, 1, 0, 1, 1, 1, 1}, s);
            var scores = Tensors.floats(m, new float[] {2, -1}, new Shape(2));
            KlPenalizedRewards.Result k1 = KlPenalizedRewards.compute(logp, ref, mask, scores, 0.1, KlEstimator.K1);
            // k1 = logp − ref: row 0 [0.5, 0, 0.5, (pad)], row 1 [−0.5, 0, 1, 0]
            assertArrayEquals(new float[] {0.5f, 0, 0.5f, 0, -0.5f, 0, 1, 0}, k1.kl().toFloatArray(), 1e-6f);
            assertArrayEquals(new float[] {-0.05f, 0, -0.05f + 2, 0, 0.05f, 0, -0.1f, -1},
                    k1.rewards().toFloatArray(), 1e-6f);
            KlPenalizedRewards.Result k3 = KlPenalizedRewards.compute(logp, ref, mask, scores, 0.1, KlEstimator.K3);
            double a = Math.exp(-0.5) - 1 + 0.5; // logr = −0.5
            double b = Math.exp(0.5) - 1 - 0.5; // logr = +0.5
            double c = Math.exp(-1) - 1 + 1; // logr = −1
            assertArrayEquals(new float[] {(float) a, 0, (float) a, 0, (float) b, 0, (float) c, 0},
                    k3.kl().toFloatArray(), 1e-6f);
            assertEquals(-0.1 * (2 * a), k3.nonScore().sum(new int[] {1}).toFloatArray()[0], 1e-6);
        }
    }

    /**
     * The whole target computation of a rollout (γ = 1, λ = 0.95, β = 0.1, k1) against TRL's reverse loop
     * written out here: rows of 3 and 2 completion tokens.
     */
    @Test
    void targetsMatchTrlsLoop() {
        RolloutBatch batch = RolloutBatch.of(List.of(new long[] {2, 9}, new long[] {2, 10, 11}),
                List.of(new long[] {20, 21, 3}, new long[] {22, 3}), 1);
        int l = batch.completionLength();
        float[] old = {-1, -2, -0.5f, -0.7f, -0.2f, 0};
        float[] ref = {-1.2f, -1.5f, -0.5f, -1, -0.1f, 0};
        float[] values = {0.3f, -0.2f, 0.5f, 1, 0.4f, 9}; // the padding value must not count
        float[] scores = {1.5f, -0.5f};
        double beta = 0.1;
        double gamma = 1.0;
        double lam = 0.95;
        int[] lens = {3, 2};
        double[][] adv = new double[2][l];
        double[][] ret = new double[2][l];
        for (int r = 0; r < 2; r++) {
            double[] rew = new double[l];
            double[] v = new double[l];
            for (int t = 0; t < lens[r]; t++) {
                rew[t] = -beta * (old[r * l + t] - ref[r * l + t]);
                v[t] = values[r * l + t];
            }
            rew[lens[r] - 1] += scores[r];
            double last = 0;
            for (int t = l - 1; t >= 0; t--) { // TRL: for t in reversed(range(gen_length))
                double next = t < l - 1 ? v[t + 1] : 0;
                double delta = rew[t] + gamma * next - v[t];
                last = delta + gamma * lam * last;
                adv[r][t] = last;
                ret[r][t] = last + v[t];
            }
        }
        double sum = 0;
        double n = 0;
        for (int r = 0; r < 2; r++) {
            for (int t = 0; t < lens[r]; t++) {
                sum += adv[r][t];
                n++;
            }
        }
        double mean = sum / n;
        double var = 0;
        for (int r = 0; r < 2; r++) {
            for (int t = 0; t < lens[r]; t++) {
                var += (adv[r][t] - mean) * (adv[r][t] - mean);
            }
        }
        var /= n - 1; // masked_var(unbiased=True)
        PpoArgs p = new PpoArgs(null, 4, 1, null, false, beta, "k1", false, 6, 10000, 0.2, 0.1, 0.2, gamma, lam, 53, 0.7,
                0, 1.0, 64);
        try (NDManager m = Engines.newManager()) {
            PpoRecipe.Targets tg = PpoRecipe.targets(p, batch, old, ref, values, scores, beta, m);
            for (int r = 0; r < 2; r++) {
                for (int t = 0; t < l; t++) {
                    boolean real = t < lens[r];
                    double wa = real ? (adv[r][t] - mean) / Math.sqrt(var + 1e-8) : 0;
                    assertEquals(wa, tg.advantages()[r * l + t], 1e-5, "advantage " + r + "," + t);
                    assertEquals(real ? ret[r][t] : 0, tg.returns()[r * l + t], 1e-5, "return " + r + "," + t);
                    assertEquals(real ? values[r * l + t] : 0, tg.values()[r * l + t], 0, "value " + r + "," + t);
                }
            }
            double kl0 = (-1 + 1.2) + (-2 + 1.5) + 0;
            double kl1 = (-0.7 + 1) + (-0.2 + 0.1);
            assertEquals((kl0 + kl1) / 2, tg.stats().get("objective/kl"), 1e-6);
            assertEquals(-beta * (kl0 + kl1) / 2, tg.stats().get("objective/non_score_reward"), 1e-6);
            assertEquals((3.5 + 0.9) / 2, tg.stats().get("objective/entropy"), 1e-6);
        }
    }
}
