package dev.align.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.align.core.Engines;
import dev.align.core.nd.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The logits processors and the sampler on fixed logits, against hand-derived results. */
class SamplerTest {
    private static NDManager m;

    @BeforeAll
    static void start() {
        m = Engines.newManager();
    }

    @AfterAll
    static void stop() {
        m.close();
    }

    // ------------------------------------------------------------------ top-p

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        double[] probs = {0.1, 0.4, 0.2, 0.3}; // sorted: 0.4 (1), 0.3 (3), 0.2 (2), 0.1 (0)
        assertEquals(Set.of(1, 3), kept(topP(logOf(probs), 0.6)));
        assertEquals(Set.of(1, 2, 3), kept(topP(logOf(probs), 0.75)));
        assertEquals(Set.of(1), kept(topP(logOf(probs), 0.35)));
        assertEquals(Set.of(1), kept(topP(logOf(probs), 0.4 - 1e-4)));
        assertEquals(Set.of(1, 3), kept(topP(logOf(probs), 0.4 + 1e-4)));
        assertEquals(Set.of(0, 1, 2, 3), kept(topP(logOf(probs), 0.95)));
    }

    @Test
    void topPTinyPKeepsOnlyTheTopAndPOneKeepsAll() {
        double[] probs = {0.05, 0.05, 0.6, 0.3};
        assertEquals(Set.of(2), kept(topP(logOf(probs), 1e-9)));
        assertEquals(Set.of(0, 1, 2, 3), kept(topP(logOf(probs), 1.0)));
        float[] tiny = {-1e4f, 0f, -1e4f}; // one token holds all the mass; the others are ~0
        assertEquals(Set.of(1), kept(topP(tiny, 0.999)));
    }

    @Test
    void topPBreaksTiesByLowerIdAndKeepsExactlyTheSmallestSet() {
        float[] uniform = {0f, 0f, 0f, 0f}; // 0.25 each: mass is exact in binary
        assertEquals(Set.of(0, 1), kept(topP(uniform, 0.5)));
        assertEquals(Set.of(0, 1), kept(topP(uniform, 0.3)));
        assertEquals(Set.of(0), kept(topP(uniform, 0.25)));
        assertEquals(Set.of(0, 1, 2), kept(topP(uniform, 0.5 + 1e-6)));
        double[] probs = {0.2, 0.4, 0.2, 0.2}; // the three 0.2s are equal logits, so exactly tied
        float[] l = logOf(probs);
        l[2] = l[0];
        l[3] = l[0];
        assertEquals(Set.of(0, 1), kept(topP(l, 0.5)));
        assertEquals(Set.of(0, 1, 2), kept(topP(l, 0.7)));
    }

    /** Property check on random rows: kept mass ≥ p, and dropping the least likely kept token falls below p. */
    @Test
    void topPIsMinimalOnRandomRows() {
        Random rnd = new Random(7);
        int rows = 200;
        int v = 50;
        float[] logits = new float[rows * v];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (rnd.nextGaussian() * 2);
        }
        double[] ps = new double[rows];
        float[] out;
        try (NDScope s = new NDScope()) {
            NDArray x = Tensors.floats(m, logits, new Shape(rows, v));
            // one p per row is not supported by the API; run row by row with different p
            out = new float[rows * v];
            for (int r = 0; r < rows; r++) {
                ps[r] = 0.05 + 0.9 * rnd.nextDouble();
                float[] row = LogitsProcessors.topP(x.get(r + ":" + (r + 1)), ps[r]).toFloatArray();
                System.arraycopy(row, 0, out, r * v, v);
            }
        }
        int checked = 0;
        for (int r = 0; r < rows; r++) {
            double[] p = softmax(Arrays.copyOfRange(logits, r * v, (r + 1) * v));
            double mass = 0;
            double smallestKept = 1;
            double largestDropped = 0;
            for (int i = 0; i < v; i++) {
                if (Float.isFinite(out[r * v + i])) {
                    mass += p[i];
                    smallestKept = Math.min(smallestKept, p[i]);
                } else {
                    largestDropped = Math.max(largestDropped, p[i]);
                }
            }
            if (Math.abs(mass - ps[r]) < 1e-5 || Math.abs(mass - smallestKept - ps[r]) < 1e-5) {
                continue; // too close to the boundary for fp32 probabilities to decide
            }
            assertTrue(mass >= ps[r], "row " + r + " kept mass " + mass + " < p " + ps[r]);
            assertTrue(mass - smallestKept < ps[r], "row " + r + " is not the smallest set");
            assertTrue(largestDropped <= smallestKept, "row " + r + " dropped a likelier token");
            assertTrue(Float.isFinite(out[r * v + argmax(p)]), "row " + r + " dropped the top token");
            checked++;
        }
        assertTrue(checked > 190, "checked " + checked);
    }

    // ------------------------------------------------------------------ top-k, min-p

    @Test
    void topKKeepsTheKLargestAndTiesWithTheKth() {
        float[] l = {1f, 5f, 3f, 4f, 2f};
        assertEquals(Set.of(1, 3), kept(apply(l, s -> LogitsProcessors.topK(s, 2))));
        assertEquals(Set.of(1, 2, 3), kept(apply(l, s -> LogitsProcessors.topK(s, 3))));
        assertEquals(Set.of(1), kept(apply(l, s -> LogitsProcessors.topK(s, 1))));
        assertEquals(Set.of(0, 1, 2, 3, 4), kept(apply(l, s -> LogitsProcessors.topK(s, 5))));
        assertEquals(Set.of(0, 1, 2, 3, 4), kept(apply(l, s -> LogitsProcessors.topK(s, 0))));
        float[] tied = {5f, 1f, 5f, 0f};
        assertEquals(Set.of(0, 2), kept(apply(tied, s -> LogitsProcessors.topK(s, 1)))); // as transformers
        float[] out = apply(l, s -> LogitsProcessors.topK(s, 2));
        assertEquals(5f, out[1]);
        assertEquals(4f, out[3]);
        assertEquals(Float.NEGATIVE_INFINITY, out[0]);
    }

    @Test
    void minPIsRelativeToTheTopProbability() {
        double[] probs = {0.5, 0.3, 0.15, 0.05};
        assertEquals(Set.of(0, 1), kept(apply(logOf(probs), s -> LogitsProcessors.minP(s, 0.35)))); // floor 0.175
        assertEquals(Set.of(0, 1, 2), kept(apply(logOf(probs), s -> LogitsProcessors.minP(s, 0.2)))); // floor 0.1
        assertEquals(Set.of(0, 1, 2, 3), kept(apply(logOf(probs), s -> LogitsProcessors.minP(s, 0.09)))); // 0.045
        assertEquals(Set.of(0), kept(apply(logOf(probs), s -> LogitsProcessors.minP(s, 1.0))));
    }

    // ------------------------------------------------------------------ penalty, temperature

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeSeenLogits() {
        float[] l = {2f, -2f, 0.5f, -1f, 0f};
        float[] out;
        try (NDScope s = new NDScope()) {
            NDArray x = Tensors.floats(m, l, new Shape(1, 5));
            NDArray seen = Tensors.ints(m, new int[] {1, 1, 0, 0, 1}, new Shape(1, 5)).toType(DataType.BOOLEAN, false);
            out = LogitsProcessors.repetitionPenalty(x, seen, 2.0).toFloatArray();
        }
        assertArrayEquals(new float[] {1f, -4f, 0.5f, -1f, 0f}, out, 1e-7f);
    }

    @Test
    void temperatureScalesLogits() {
        float[] out = apply(new float[] {2f, -2f, 0.3f}, s -> LogitsProcessors.temperature(s, 0.5));
        assertArrayEquals(new float[] {4f, -4f, 0.6f}, out, 1e-6f);
        // a pipeline: penalty first (HF's processor), then temperature, then top-k
        SamplingParams p = SamplingParams.sample(2.0, 0).withRepetitionPenalty(4.0).withTopK(2);
        float[] piped;
        try (NDScope s = new NDScope()) {
            NDArray x = Tensors.floats(m, new float[] {8f, 4f, -2f, 6f}, new Shape(1, 4));
            NDArray seen = Tensors.ints(m, new int[] {1, 0, 1, 0}, new Shape(1, 4)).toType(DataType.BOOLEAN, false);
            piped = LogitsProcessors.apply(LogitsProcessors.pipeline(p, seen), x).toFloatArray();
        }
        // penalty: [2, 4, -8, 6]; temperature 2: [1, 2, -4, 3]; top-2: [-inf, 2, -inf, 3]
        assertArrayEquals(new float[] {Float.NEGATIVE_INFINITY, 2f, Float.NEGATIVE_INFINITY, 3f}, piped, 1e-6f);
    }

    // ------------------------------------------------------------------ choosing

    @Test
    void temperatureZeroIsGreedyWhateverTheWarpers() {
        float[] l = {0.1f, 2.5f, 2.4f, -1f, 2.5f};
        SamplingParams zero = SamplingParams.sample(0.0, 3).withTopK(3).withTopP(0.5).withMinP(0.2);
        Sampler.Choice c0 = choose(zero, l, 4);
        Sampler.Choice g = choose(SamplingParams.greedy(), l, 4);
        assertArrayEquals(new long[] {1, 1, 1, 1}, c0.tokens()); // the first of tied maxima
        assertArrayEquals(g.tokens(), c0.tokens());
        double[] p = softmax(l);
        assertEquals(Math.log(p[1]), c0.rawLogprobs()[0], 1e-6);
        assertEquals(Math.log(p[1]), c0.logprobs()[0], 1e-6); // greedy without a penalty: the raw distribution
    }

    /** Many seeded draws from one processed distribution: chi-square against the processed probabilities. */
    @Test
    void sampledFrequenciesMatchTheProcessedDistribution() {
        float[] l = {1.2f, 0.3f, -0.5f, 2.0f, 0.9f, -3f, 1.5f, 0.0f};
        SamplingParams p = SamplingParams.sample(0.8, 11).withTopK(6).withTopP(0.9);
        // expected: temperature 0.8, keep the 6 largest, then the smallest set reaching 0.9
        double[] scaled = new double[l.length];
        for (int i = 0; i < l.length; i++) {
            scaled[i] = l[i] / 0.8;
        }
        double[] q = softmax(scaled);
        Integer[] order = {3, 6, 0, 4, 1, 7, 2, 5};
        Set<Integer> keep = new TreeSet<>();
        double mass = 0;
        double top6 = 0;
        for (int i = 0; i < 6; i++) {
            top6 += q[order[i]];
        }
        for (int i = 0; i < 6 && mass < 0.9; i++) {
            keep.add(order[i]);
            mass += q[order[i]] / top6;
        }
        assertEquals(Set.of(3, 6, 0, 4), keep); // cumulative 0.42, 0.65, 0.81, 0.91 of the top-6 mass
        double z = 0;
        for (int i : keep) {
            z += q[i];
        }
        int n = 40000;
        Sampler.Choice c = choose(p, l, n);
        long[] counts = new long[l.length];
        for (long t : c.tokens()) {
            counts[(int) t]++;
        }
        double chi2 = 0;
        for (int i = 0; i < l.length; i++) {
            if (!keep.contains(i)) {
                assertEquals(0, counts[i], "token " + i + " was filtered out but sampled");
                continue;
            }
            double e = n * q[i] / z;
            chi2 += (counts[i] - e) * (counts[i] - e) / e;
        }
        // 3 degrees of freedom: P(chi2 > 16.27) = 0.001
        assertTrue(chi2 < 16.27, "chi2 " + chi2 + " counts " + Arrays.toString(counts));
        for (int r = 0; r < n; r++) {
            int t = (int) c.tokens()[r];
            assertEquals(Math.log(q[t] / z), c.logprobs()[r], 1e-5, "processed log-prob of a draw");
            assertEquals(Math.log(softmax(l)[t]), c.rawLogprobs()[r], 1e-5, "raw log-prob of a draw");
        }
    }

    @Test
    void sampledFrequenciesWithMinPAndPenalty() {
        float[] l = {1f, 1.5f, 0.2f, 2f, -0.4f};
        // penalty 2 on token 3: 2 → 1; then min-p 0.25 of the top (token 1): floor ≈ 0.095
        SamplingParams p = SamplingParams.sample(1.0, 5).withRepetitionPenalty(2.0).withMinP(0.25);
        double[] pen = {1, 1.5, 0.2, 1, -0.4};
        double[] q = softmax(pen);
        double floor = 0.25 * q[1];
        double z = 0;
        for (double x : q) {
            z += x >= floor ? x : 0;
        }
        int n = 30000;
        long[] counts = new long[5];
        try (Sampler s = new Sampler(p, n, 5, m)) {
            List<long[]> seen = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                seen.add(new long[] {3});
            }
            s.observe(seen);
            try (NDScope scope = new NDScope()) {
                for (long t : s.choose(rows(l, n)).tokens()) {
                    counts[(int) t]++;
                }
            }
        }
        double chi2 = 0;
        int df = -1;
        for (int i = 0; i < 5; i++) {
            if (q[i] < floor) {
                assertEquals(0, counts[i], "token " + i);
                continue;
            }
            double e = n * q[i] / z;
            chi2 += (counts[i] - e) * (counts[i] - e) / e;
            df++;
        }
        assertEquals(3, df); // token 4 (p ≈ 0.057 < floor ≈ 0.095) is out, token 2 (≈ 0.103) in
        assertTrue(chi2 < 16.27, "chi2 " + chi2 + " counts " + Arrays.toString(counts)); // P = 0.001 at 3 dof
    }

    @Test
    void sameSeedSameDrawsOtherSeedOtherDraws() {
        float[] l = {0.5f, 0.4f, 0.3f, 0.2f, 0.1f, 0f};
        Sampler.Choice a = choose(SamplingParams.sample(1.0, 42), l, 64);
        Sampler.Choice b = choose(SamplingParams.sample(1.0, 42), l, 64);
        Sampler.Choice c = choose(SamplingParams.sample(1.0, 43), l, 64);
        assertArrayEquals(a.tokens(), b.tokens());
        assertFalse(Arrays.equals(a.tokens(), c.tokens()));
    }

    @Test
    void invalidParametersAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.sample(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.greedy().withTopP(0));
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.greedy().withTopP(1.5));
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.greedy().withTopK(-1));
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.greedy().withMinP(2));
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.greedy().withRepetitionPenalty(0));
        assertNotEquals(SamplingParams.greedy(), SamplingParams.sample(1, 0));
    }

    // ------------------------------------------------------------------ helpers

    private static Sampler.Choice choose(SamplingParams p, float[] logits, int rows) {
        try (Sampler s = new Sampler(p, rows, logits.length, m); NDScope scope = new NDScope()) {
            return s.choose(rows(logits, rows));
        }
    }

    /** {@code logits} repeated in {@code n} rows: [n, V]. */
    private static NDArray rows(float[] logits, int n) {
        float[] all = new float[n * logits.length];
        for (int r = 0; r < n; r++) {
            System.arraycopy(logits, 0, all, r * logits.length, logits.length);
        }
        return Tensors.floats(m, all, new Shape(n, logits.length));
    }

    private static float[] topP(float[] logits, double p) {
        return apply(logits, s -> LogitsProcessors.topP(s, p));
    }

    private static float[] apply(float[] logits, java.util.function.UnaryOperator<NDArray> f) {
        try (NDScope s = new NDScope()) {
            return f.apply(Tensors.floats(m, logits, new Shape(1, logits.length))).toFloatArray();
        }
    }

    private static Set<Integer> kept(float[] scores) {
        Set<Integer> out = new TreeSet<>();
        for (int i = 0; i < scores.length; i++) {
            if (scores[i] != Float.NEGATIVE_INFINITY) {
                out.add(i);
            }
        }
        return out;
    }

    private static float[] logOf(double[] p) {
        float[] out = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            out[i] = (float) Math.log(p[i]);
        }
        return out;
    }

    private static double[] softmax(float[] l) {
        double[] d = new double[l.length];
        for (int i = 0; i < l.length; i++) {
            d[i] = l[i];
        }
        return softmax(d);
    }

    private static double[] softmax(double[] l) {
        double max = Double.NEGATIVE_INFINITY;
        for (double x : l) {
            max = Math.max(max, x);
        }
        double z = 0;
        double[] out = new double[l.length];
        for (int i = 0; i < l.length; i++) {
            out[i] = Math.exp(l[i] - max);
            z += out[i];
        }
        for (int i = 0; i < l.length; i++) {
            out[i] /= z;
        }
        return out;
    }

    private static int argmax(double[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }
}
