package dev.align.rm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.align.core.Engines;
import dev.align.core.data.TokenBatch;
import dev.align.core.nd.Tensors;
import dev.align.core.train.Accumulation;
import dev.align.datasets.batch.RankingBatch;
import dev.align.rm.loss.RankingLoss;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Reward-model metrics on fixed rewards against hand-computed values: a K = 4 ranking with a tie in the
 * rewards, and a preference pair with a margin; the loss agrees with the differentiable objective, and
 * splitting a step into micro-batches weighted by their share of prompts gives the whole step's loss.
 */
class RewardStatsTest {
    private static final float[] REWARDS = {3f, 1f, 1f, -2f, 0.5f, 1.5f};

    private static double sp(double x) {
        return Math.log1p(Math.exp(x));
    }

    /** Group 0: rows 0..3 ranked 0 > 1 > 2 > 3 (6 pairs); group 1: rows 4 (chosen), 5 with margin 1. */
    private static RankingBatch batch() {
        List<long[]> rows = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            rows.add(new long[] {2, 10 + i, 3});
        }
        TokenBatch tb = TokenBatch.rightPadded(rows, new int[6], 1);
        return new RankingBatch(tb, 2, new int[] {0, 0, 0, 0, 1, 1},
                new int[] {0, 0, 0, 1, 1, 2, 4}, new int[] {1, 2, 3, 2, 3, 3, 5},
                new double[] {Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 1.0},
                new int[] {0, 0, 0, 0, 0, 0, 1}, new int[] {1, 2});
    }

    @Test
    void metricsByHand() {
        RewardStats s = new RewardStats(0);
        s.add(batch(), REWARDS);
        Map<String, Double> m = s.metrics();
        // group 0: differences 2, 2, 5, 0 (a tie: log 2, and not correct), 3, 3; group 1: −1 with margin 1
        double g0 = (2 * sp(-2) + sp(-5) + Math.log(2) + 2 * sp(-3)) / 6;
        double g1 = sp(2);
        assertEquals((g0 + g1) / 2, m.get("loss"), 1e-12);
        assertEquals(5.0 / 7, m.get("accuracy"), 1e-12);
        assertEquals(14.0 / 7, m.get("margin"), 1e-12);
        assertEquals(5.0 / 6, m.get("mean_reward"), 1e-12);
        assertEquals(-2.0, m.get("min_reward"), 0);
        assertEquals(3.0, m.get("max_reward"), 0);
        assertEquals(12.5 / 7, m.get("rewards/chosen"), 1e-12);
        assertEquals(-1.5 / 7, m.get("rewards/rejected"), 1e-12);
        assertEquals(7.0, m.get("pairs"), 0);
        assertEquals(2.0, m.get("prompts"), 0);

        RewardStats c = new RewardStats(0.1);
        c.add(batch(), REWARDS);
        // (r_w + r_l)²: 16, 16, 1, 4, 1, 1, 4
        assertEquals((g0 + g1) / 2 + 0.1 * 43 / 7, c.metrics().get("loss"), 1e-12);
    }

    @Test
    void batchesAddUp() {
        RewardStats whole = new RewardStats(0);
        whole.add(batch(), REWARDS);
        RewardStats twice = new RewardStats(0);
        twice.add(batch(), REWARDS);
        twice.add(batch(), REWARDS);
        whole.metrics().forEach((k, v) -> {
            if (!k.equals("pairs") && !k.equals("prompts")) {
                assertEquals(v, twice.metrics().get(k), 1e-12, k);
            }
        });
        assertEquals(14.0, twice.metrics().get("pairs"), 0);
    }

    @Test
    void lossAgreesWithObjectiveAndMicroBatchShares() {
        RankingBatch b = batch();
        try (NDManager m = Engines.newManager()) {
            NDArray r = Tensors.floats(m, REWARDS, new Shape(6));
            for (double eta : new double[] {0, 0.1}) {
                NDArray whole = RmRecipe.pairLoss(new RankingLoss(eta), r, b, m);
                RewardStats s = new RewardStats(eta);
                s.add(b, REWARDS);
                assertEquals(s.metrics().get("loss"), whole.getFloat(), 1e-6, "eta " + eta);
            }
            // the same step as two micro-batches of one prompt each, weighted by their share of prompts
            RankingBatch first = new RankingBatch(b.batch(), 1, new int[] {0, 0, 0, 0, 0, 0},
                    new int[] {0, 0, 0, 1, 1, 2}, new int[] {1, 2, 3, 2, 3, 3}, new double[] {Double.NaN, Double.NaN,
                            Double.NaN, Double.NaN, Double.NaN, Double.NaN}, new int[6], new int[] {1});
            RankingBatch second = new RankingBatch(b.batch(), 1, new int[6], new int[] {4}, new int[] {5},
                    new double[] {1.0}, new int[1], new int[] {2});
            RankingLoss plain = new RankingLoss(0);
            float split = Accumulation.scale(RmRecipe.pairLoss(plain, r, first, m), Accumulation.rowShare(1, 2)).getFloat()
                    + Accumulation.scale(RmRecipe.pairLoss(plain, r, second, m), Accumulation.rowShare(1, 2)).getFloat();
            assertEquals(RmRecipe.pairLoss(plain, r, b, m).getFloat(), split, 1e-6);
        }
    }
}
