package dev.align.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.AlignException;
import dev.align.core.Engines;
import dev.align.core.model.DecoderLM.Param;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * AdamW against torch.optim.AdamW (goldens from make_goldens.py: two groups, decay and no decay,
 * changing learning rates) and against the update written out by hand in double precision.
 */
class AdamWTest {
    private static final double TOL = 1e-6;

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void matchesTorchAndHandComputed(int caseIndex) {
        JsonNode c = TrainTesting.golden("adamw.json").get(caseIndex);
        JsonNode betas = c.get("betas");
        AdamW.Options o = new AdamW.Options(betas.get(0).asDouble(), betas.get(1).asDouble(),
                c.get("eps").asDouble(), c.get("weight_decay").asDouble());
        try (NDManager m = Engines.newManager()) {
            Param a = TrainTesting.param(m, "a", TrainTesting.floats(c.get("a0")), TrainTesting.longs(c.get("shape_a")), true);
            Param b = TrainTesting.param(m, "b", TrainTesting.floats(c.get("b0")), TrainTesting.longs(c.get("shape_b")), false);
            Hand ha = new Hand(TrainTesting.floats(c.get("a0")), o, o.weightDecay());
            Hand hb = new Hand(TrainTesting.floats(c.get("b0")), o, 0.0);
            try (AdamW opt = new AdamW(List.of(a, b), o)) {
                for (int k = 0; k < c.get("lrs").size(); k++) {
                    double lr = c.get("lrs").get(k).asDouble();
                    float[] ga = TrainTesting.floats(c.get("grads_a").get(k));
                    float[] gb = TrainTesting.floats(c.get("grads_b").get(k));
                    TrainTesting.setGrads(List.of(a, b), List.of(ga, gb));
                    opt.step(lr);
                    opt.zeroGrad();
                    ha.step(lr, ga);
                    hb.step(lr, gb);
                    float[] va = a.value().toFloatArray();
                    float[] vb = b.value().toFloatArray();
                    String where = c.get("name").asText() + " step " + (k + 1);
                    assertClose(TrainTesting.floats(c.get("a").get(k)), va, where + " a vs torch");
                    assertClose(TrainTesting.floats(c.get("b").get(k)), vb, where + " b vs torch");
                    assertClose(ha.p, va, where + " a vs hand");
                    assertClose(hb.p, vb, where + " b vs hand");
                }
                assertClose(TrainTesting.floats(c.get("exp_avg_a")), opt.expAvg("a").toFloatArray(), "exp_avg a");
                assertClose(TrainTesting.floats(c.get("exp_avg_sq_a")), opt.expAvgSq("a").toFloatArray(), "exp_avg_sq a");
                assertClose(TrainTesting.floats(c.get("exp_avg_b")), opt.expAvg("b").toFloatArray(), "exp_avg b");
                assertClose(TrainTesting.floats(c.get("exp_avg_sq_b")), opt.expAvgSq("b").toFloatArray(), "exp_avg_sq b");
                assertEquals(c.get("lrs").size(), opt.updates());
                assertEquals(c.get("lrs").size(), opt.stepCount("a"));
            }
        }
    }

    @Test
    void oneStepByHand() {
        // p = 1, g = 0.5, lr = 0.1, wd = 0.1: decay gives 0.99; m = 0.05, v = 0.00025;
        // m̂ = 0.5, v̂ = 0.25, update = 0.1 · 0.5 / (0.5 + 1e-8) ≈ 0.1 → p = 0.89
        try (NDManager m = Engines.newManager()) {
            Param p = TrainTesting.param(m, "p", new float[] {1f, -2f}, new long[] {2}, true);
            try (AdamW opt = new AdamW(List.of(p), AdamW.Options.withWeightDecay(0.1))) {
                TrainTesting.setGrads(List.of(p), List.of(new float[] {0.5f, 0.5f}));
                opt.step(0.1);
                float[] v = p.value().toFloatArray();
                assertEquals(1.0 * (1 - 0.01) - 0.1 * 0.5 / (0.5 + 1e-8), v[0], 1e-7);
                assertEquals(-2.0 * (1 - 0.01) - 0.1 * 0.5 / (0.5 + 1e-8), v[1], 1e-7);
                assertArrayEquals(new float[] {0.05f, 0.05f}, opt.expAvg("p").toFloatArray(), 1e-9f);
                assertArrayEquals(new float[] {0.00025f, 0.00025f}, opt.expAvgSq("p").toFloatArray(), 1e-10f);
            }
        }
    }

    @Test
    void parametersWithoutGradientAreLeftAlone() {
        try (NDManager m = Engines.newManager()) {
            Param used = TrainTesting.param(m, "used", new float[] {1f, 2f}, new long[] {2}, true);
            Param unused = TrainTesting.param(m, "unused", new float[] {3f, 4f}, new long[] {2}, true);
            try (AdamW opt = new AdamW(List.of(used, unused), AdamW.Options.withWeightDecay(0.5))) {
                TrainTesting.setGrads(List.of(used), List.of(new float[] {1f, 1f}));
                opt.step(0.1);
                assertArrayEquals(new float[] {3f, 4f}, unused.value().toFloatArray(), 0f);
                assertEquals(0, opt.stepCount("unused"));
                assertEquals(1, opt.stepCount("used"));
                opt.zeroGrad();
                assertArrayEquals(new float[] {0f, 0f}, TrainTesting.grad(used), 0f);
            }
        }
    }

    @Test
    void saveAndLoadContinueExactly(@TempDir Path dir) {
        JsonNode c = TrainTesting.golden("adamw.json").get(0);
        AdamW.Options o = AdamW.Options.withWeightDecay(0.1);
        float[] straight;
        try (NDManager m = Engines.newManager()) {
            Param a = TrainTesting.param(m, "a", TrainTesting.floats(c.get("a0")), new long[] {2, 3}, true);
            try (AdamW opt = new AdamW(List.of(a), o)) {
                for (int k = 0; k < 5; k++) {
                    TrainTesting.setGrads(List.of(a), List.of(TrainTesting.floats(c.get("grads_a").get(k))));
                    opt.step(1e-2);
                    opt.zeroGrad();
                }
            }
            straight = a.value().toFloatArray();
        }
        float[] resumed;
        try (NDManager m = Engines.newManager()) {
            Param a = TrainTesting.param(m, "a", TrainTesting.floats(c.get("a0")), new long[] {2, 3}, true);
            try (AdamW opt = new AdamW(List.of(a), o)) {
                for (int k = 0; k < 2; k++) {
                    TrainTesting.setGrads(List.of(a), List.of(TrainTesting.floats(c.get("grads_a").get(k))));
                    opt.step(1e-2);
                    opt.zeroGrad();
                }
                opt.save(dir);
            }
            assertTrue(AdamW.exists(dir));
            Param a2 = TrainTesting.param(m, "a", a.value().toFloatArray(), new long[] {2, 3}, true);
            try (AdamW opt = new AdamW(List.of(a2), o)) {
                opt.load(dir);
                assertEquals(2, opt.updates());
                assertEquals(2, opt.stepCount("a"));
                for (int k = 2; k < 5; k++) {
                    TrainTesting.setGrads(List.of(a2), List.of(TrainTesting.floats(c.get("grads_a").get(k))));
                    opt.step(1e-2);
                    opt.zeroGrad();
                }
            }
            resumed = a2.value().toFloatArray();
        }
        assertArrayEquals(straight, resumed, 0f);
    }

    @Test
    void loadRejectsAnotherModelOrOtherSettings(@TempDir Path dir) {
        try (NDManager m = Engines.newManager()) {
            Param a = TrainTesting.param(m, "a", new float[] {1, 2, 3}, new long[] {3}, true);
            try (AdamW opt = new AdamW(List.of(a), AdamW.Options.DEFAULTS)) {
                opt.save(dir);
            }
            Param wrongShape = TrainTesting.param(m, "a", new float[] {1, 2}, new long[] {2}, true);
            try (AdamW opt = new AdamW(List.of(wrongShape), AdamW.Options.DEFAULTS)) {
                AlignException e = assertThrows(AlignException.class, () -> opt.load(dir));
                assertTrue(e.getMessage().contains("optimizer.json: params[0].shape"), e.getMessage());
            }
            Param wrongName = TrainTesting.param(m, "b", new float[] {1, 2, 3}, new long[] {3}, true);
            try (AdamW opt = new AdamW(List.of(wrongName), AdamW.Options.DEFAULTS)) {
                AlignException e = assertThrows(AlignException.class, () -> opt.load(dir));
                assertTrue(e.getMessage().contains("params[0].name"), e.getMessage());
            }
            try (AdamW opt = new AdamW(List.of(a), AdamW.Options.withWeightDecay(0.1))) {
                AlignException e = assertThrows(AlignException.class, () -> opt.load(dir));
                assertTrue(e.getMessage().contains("weight_decay"), e.getMessage());
            }
        }
        assertTrue(Files.isRegularFile(dir.resolve(AdamW.STATE_FILE)));
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], TOL, what + " [" + i + "]");
        }
    }

    private static void assertClose(double[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], TOL, what + " [" + i + "]");
        }
    }

    /** The AdamW update written out in double precision, one parameter. */
    private static final class Hand {
        final double[] p;
        final double[] m;
        final double[] v;
        final AdamW.Options o;
        final double wd;
        int t;

        Hand(float[] p0, AdamW.Options o, double wd) {
            p = new double[p0.length];
            for (int i = 0; i < p0.length; i++) {
                p[i] = p0[i];
            }
            m = new double[p0.length];
            v = new double[p0.length];
            this.o = o;
            this.wd = wd;
        }

        void step(double lr, float[] g) {
            t++;
            double bc1 = 1 - Math.pow(o.beta1(), t);
            double bc2 = 1 - Math.pow(o.beta2(), t);
            for (int i = 0; i < p.length; i++) {
                p[i] *= 1 - lr * wd;
                m[i] = o.beta1() * m[i] + (1 - o.beta1()) * g[i];
                v[i] = o.beta2() * v[i] + (1 - o.beta2()) * g[i] * (double) g[i];
                double denom = Math.sqrt(v[i]) / Math.sqrt(bc2) + o.eps();
                p[i] -= lr / bc1 * m[i] / denom;
            }
        }
    }
}
