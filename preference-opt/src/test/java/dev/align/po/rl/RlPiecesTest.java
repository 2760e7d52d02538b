package dev.align.po.rl;

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

/** PPO/GRPO pieces against hand-computed values. */
class RlPiecesTest {

    private static NDArray f(NDManager m, float[] v, long... shape) {
        return Tensors.floats(m, v, new Shape(shape));
    }

    /** GAE on a 4-step trajectory, written out by hand, plus a padded row of 2 steps. */
    @Test
    void gaeFourSteps() {
        double g = 0.9;
        double l = 0.8;
        double[] r = {0, 0.1, 0, 1};
        double[] v = {0.5, 0.4, 0.6, 0.7};
        double d3 = r[3] + g * 0 - v[3]; // 0.3
        double d2 = r[2] + g * v[3] - v[2]; // 0.03
        double d1 = r[1] + g * v[2] - v[1]; // 0.24
        double d0 = r[0] + g * v[1] - v[0]; // −0.14
        double a3 = d3;
        double a2 = d2 + g * l * a3;
        double a1 = d1 + g * l * a2;
        double a0 = d0 + g * l * a1;
        try (NDManager m = Engines.newManager()) {
            NDArray rewards = f(m, new float[] {0, 0.1f, 0, 1, 2, 1, 0, 0}, 2, 4);
            NDArray values = f(m, new float[] {0.5f, 0.4f, 0.6f, 0.7f, 1, 3, 0, 0}, 2, 4);
            Gae.Result res = Gae.compute(rewards, values, g, l);
            float[] adv = res.advantages().toFloatArray();
            assertEquals(a0, adv[0], 1e-6);
            assertEquals(a1, adv[1], 1e-6);
            assertEquals(a2, adv[2], 1e-6);
            assertEquals(a3, adv[3], 1e-6);
            double b1 = 1 + g * 0 - 3; // padded row: the episode ends after step 1
            double b0 = 2 + g * 3 - 1 + g * l * b1;
            assertEquals(b0, adv[4], 1e-6);
            assertEquals(b1, adv[5], 1e-6);
            assertEquals(0, adv[6], 1e-7);
            float[] ret = res.returns().toFloatArray();
            assertEquals(a0 + 0.5, ret[0], 1e-6);
            assertEquals(b1 + 3, ret[5], 1e-6);
        }
    }

    @Test
    void whitenAndKl() {
        try (NDManager m = Engines.newManager()) {
            NDArray x = f(m, new float[] {1, 2, 3, 100}, 4);
            NDArray mask = f(m, new float[] {1, 1, 1, 0}, 4);
            float[] w = Masked.whiten(x, mask, true).toFloatArray();
            // mean 2, unbiased var 1 → (x − 2)/sqrt(1 + 1e-8)
            assertArrayEquals(new float[] {-1, 0, 1, 0}, w, 1e-6f);
            float[] ws = Masked.whiten(x, mask, false).toFloatArray();
            assertArrayEquals(new float[] {1, 2, 3, 0}, ws, 1e-6f);
            NDArray logp = f(m, new float[] {-1, -0.5f}, 2);
            NDArray ref = f(m, new float[] {-2, -0.5f}, 2);
            assertArrayEquals(new float[] {1, 0}, KlEstimator.K1.estimate(logp, ref).toFloatArray(), 1e-7f);
            assertArrayEquals(new float[] {(float) (Math.exp(-1) + 1 - 1), 0}, KlEstimator.K3.estimate(logp, ref).toFloatArray(), 1e-6f);
        }
    }

    /** Clipping at both edges: the clipped side carries no gradient. */
    @Test
    void ppoPolicyClipsAtBothEdges() {
        try (NDManager m = Engines.newManager()) {
            // ratios e^{0.5}=1.65 (A>0, clipped at 1.2), e^{-0.5}=0.61 (A<0, clipped at 0.8), e^{0.1}=1.105 (A>0, not clipped)
            NDArray old = f(m, new float[] {-1, -1, -1}, 1, 3);
            NDArray logp = f(m, new float[] {-0.5f, -1.5f, -0.9f}, 1, 3);
            logp.setRequiresGradient(true);
            NDArray adv = f(m, new float[] {2, -1, 1}, 1, 3);
            NDArray mask = f(m, new float[] {1, 1, 1}, 1, 3);
            PpoLosses.Policy p;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                p = PpoLosses.policy(logp, old, adv, mask, 0.2);
                gc.backward(p.loss());
            }
            double expected = (-2 * 1.2 + 1 * 0.8 - 1 * Math.exp(0.1)) / 3;
            assertEquals(expected, p.loss().getFloat(), 1e-6);
            assertEquals(2 / 3.0, p.clipFraction().getFloat(), 1e-6);
            float[] grad = logp.getGradient().toFloatArray();
            assertEquals(0, grad[0], 1e-7);
            assertEquals(0, grad[1], 1e-7);
            assertEquals(-Math.exp(0.1) / 3, grad[2], 1e-6);
            double kl = 0.5 * (0.25 + 0.25 + 0.01) / 3;
            assertEquals(kl, p.approxKl().getFloat(), 1e-6);
        }
    }

    @Test
    void ppoValueClips() {
        try (NDManager m = Engines.newManager()) {
            NDArray v = f(m, new float[] {1.0f, 0.5f}, 1, 2);
            NDArray old = f(m, new float[] {0.5f, 0.5f}, 1, 2);
            NDArray ret = f(m, new float[] {2f, 0f}, 1, 2);
            NDArray mask = f(m, new float[] {1, 1}, 1, 2);
            PpoLosses.Value val = PpoLosses.value(v, old, ret, mask, 0.2);
            // token 0: V=1, clipped V=0.7 → max((1−2)², (0.7−2)²) = 1.69; token 1: 0.25 both
            assertEquals(0.5 * (1.69 + 0.25) / 2, val.loss().getFloat(), 1e-6);
            assertEquals(0.5, val.clipFraction().getFloat(), 1e-6);
        }
    }

    @Test
    void groupAdvantagesWithZeroStd() {
        try (NDManager m = Engines.newManager()) {
            NDArray rewards = f(m, new float[] {1, 0, 0, 1, 0.5f, 0.5f, 0.5f, 0.5f}, 8);
            GroupAdvantages.Result res = GroupAdvantages.compute(rewards, 4, true);
            double std = Math.sqrt(4 * 0.25 / 3); // unbiased
            float[] a = res.advantages().toFloatArray();
            assertEquals(0.5 / (std + 1e-4), a[0], 1e-5);
            assertEquals(-0.5 / (std + 1e-4), a[1], 1e-5);
            assertArrayEquals(new float[] {0, 0, 0, 0}, java.util.Arrays.copyOfRange(a, 4, 8), 1e-7f);
            assertEquals(0.5f, res.fracZeroStd(), 1e-7f);
            assertArrayEquals(new float[] {(float) std, 0}, res.groupStd().toFloatArray(), 1e-6f);
            float[] unscaled = GroupAdvantages.compute(rewards, 4, false).advantages().toFloatArray();
            assertEquals(0.5, unscaled[0], 1e-6);
        }
    }

    /** On-policy (ρ = 1) the GRPO loss is −A aggregated, plus β·k3. */
    @Test
    void grpoAggregations() {
        try (NDManager m = Engines.newManager()) {
            NDArray logp = f(m, new float[] {-1, -2, -3, -1, -1, 0}, 2, 3);
            NDArray ref = f(m, new float[] {-1, -2, -3, -2, -1, 0}, 2, 3);
            NDArray mask = f(m, new float[] {1, 1, 1, 1, 1, 0}, 2, 3);
            NDArray adv = f(m, new float[] {1, -2}, 2);
            double k3 = Math.exp(-1) + 1 - 1; // token (1,0): log r = −1
            // row 0: 3 tokens of −1 each; row 1: 2 tokens of +2 each (+ β·k3 on one of them)
            double beta = 0.04;
            double grpo = (-1.0 + (2 * 2 + beta * k3) / 2) / 2;
            double dapo = (-3.0 + 4 + beta * k3) / 5;
            double dr = (-3.0 + 4 + beta * k3) / (2 * 4);
            assertEquals(grpo, new GrpoLoss(0.2, 0.28, beta, GrpoLoss.Aggregation.GRPO, 4).compute(logp, logp, ref, adv, mask).loss().getFloat(), 1e-6);
            assertEquals(dapo, new GrpoLoss(0.2, 0.28, beta, GrpoLoss.Aggregation.DAPO, 4).compute(logp, logp, ref, adv, mask).loss().getFloat(), 1e-6);
            GrpoLoss.Output o = new GrpoLoss(0.2, 0.28, beta, GrpoLoss.Aggregation.DR_GRPO, 4).compute(logp, logp, ref, adv, mask);
            assertEquals(dr, o.loss().getFloat(), 1e-6);
            assertEquals(k3 / 5, o.kl().getFloat(), 1e-6);
            assertEquals(0, o.clipRegion().getFloat(), 1e-7);
            // off-policy: ratio 1.5 with A > 0 is clipped high at 1.28, ratio 0.5 with A < 0 clipped low
            NDArray old = f(m, new float[] {(float) (-1 - Math.log(1.5)), -2, -3, (float) (-1 - Math.log(0.5)), -1, 0}, 2, 3);
            GrpoLoss.Output c = new GrpoLoss(0.2, 0.28, 0, GrpoLoss.Aggregation.DAPO, 4).compute(logp, old, null, adv, mask);
            assertEquals(1 / 5.0, c.clipHigh().getFloat(), 1e-6);
            assertEquals(1 / 5.0, c.clipLow().getFloat(), 1e-6);
            assertEquals(2 / 5.0, c.clipRegion().getFloat(), 1e-6);
            double dapoClipped = (-1.28 - 1 - 1 + 2 * 0.8 + 2) / 5;
            assertEquals(dapoClipped, c.loss().getFloat(), 1e-5);
        }
    }

    @Test
    void adaptiveKl() {
        KlController k = KlController.adaptive(0.2, 6, 10000);
        k.update(12, 64); // error clipped to +0.2
        assertEquals(0.2 * (1 + 0.2 * 64 / 10000), k.value(), 1e-12);
        KlController fixed = KlController.fixed(0.05);
        fixed.update(100, 64);
        assertEquals(0.05, fixed.value(), 0);
    }
}
