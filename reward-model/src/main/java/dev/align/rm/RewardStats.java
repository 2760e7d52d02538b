package dev.align.rm;

import dev.align.datasets.batch.RankingBatch;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reward-model metrics accumulated over batches, in double precision off the autograd tape (a loop over
 * pairs and responses, never over tokens):
 *
 * <ul>
 *   <li>{@code loss}: InstructGPT's K-wise loss, each prompt weighted equally —
 *       {@code (1/G) Σ_g (1/|pairs_g|) Σ_{(w,l)} −log σ(r_w − r_l − m_wl)} — plus
 *       {@code η·mean_pairs (r_w + r_l)²} with centering; for preference pairs (one pair per prompt) this is
 *       TRL's {@code mean −log σ(r_c − r_r − m)};
 *   <li>{@code accuracy}: share of pairs with {@code r_w > r_l} strictly (a tie counts as wrong);
 *   <li>{@code margin}: mean {@code r_w − r_l} over pairs;
 *   <li>{@code mean_reward}, {@code min_reward}, {@code max_reward}: over every scored response (each once);
 *   <li>{@code rewards/chosen}, {@code rewards/rejected}: mean reward of the better / worse side of the pairs;
 *   <li>{@code pairs}, {@code prompts}: counts.
 * </ul>
 */
public final class RewardStats {
    private final double center;
    private double loss;
    private double centerSum;
    private long prompts;
    private long pairs;
    private long correct;
    private double margin;
    private double better;
    private double worse;
    private long responses;
    private double rewardSum;
    private double min = Double.POSITIVE_INFINITY;
    private double max = Double.NEGATIVE_INFINITY;

    /** @param centerCoefficient η of the centering term (0 = none) */
    public RewardStats(double centerCoefficient) {
        this.center = centerCoefficient;
    }

    /** Adds a batch given its rewards [R] (one per row, in row order). */
    public void add(RankingBatch b, float[] rewards) {
        if (rewards.length != b.batch().rows()) {
            throw new IllegalArgumentException(rewards.length + " rewards for " + b.batch().rows() + " rows");
        }
        int[] perGroup = new int[b.groups()];
        for (int g : b.pairGroup()) {
            perGroup[g]++;
        }
        double[] groupLoss = new double[b.groups()];
        for (int k = 0; k < b.pairs(); k++) {
            double rw = rewards[b.better()[k]];
            double rl = rewards[b.worse()[k]];
            double m = Double.isNaN(b.margins()[k]) ? 0 : b.margins()[k];
            double d = rw - rl;
            groupLoss[b.pairGroup()[k]] += softplus(-(d - m)) / perGroup[b.pairGroup()[k]];
            centerSum += (rw + rl) * (rw + rl);
            correct += d > 0 ? 1 : 0;
            margin += d;
            better += rw;
            worse += rl;
        }
        for (int g = 0; g < b.groups(); g++) {
            if (perGroup[g] > 0) {
                loss += groupLoss[g];
                prompts++;
            }
        }
        pairs += b.pairs();
        for (float r : rewards) {
            rewardSum += r;
            min = Math.min(min, r);
            max = Math.max(max, r);
        }
        responses += rewards.length;
    }

    /** The metrics so far (NaN where nothing was added). */
    public Map<String, Double> metrics() {
        Map<String, Double> m = new LinkedHashMap<>();
        double l = loss / prompts;
        if (center != 0) {
            l += center * centerSum / pairs;
        }
        m.put("loss", l);
        m.put("accuracy", (double) correct / pairs);
        m.put("margin", margin / pairs);
        m.put("mean_reward", rewardSum / responses);
        m.put("min_reward", responses > 0 ? min : Double.NaN);
        m.put("max_reward", responses > 0 ? max : Double.NaN);
        m.put("rewards/chosen", better / pairs);
        m.put("rewards/rejected", worse / pairs);
        m.put("pairs", (double) pairs);
        m.put("prompts", (double) prompts);
        return m;
    }

    /** log(1 + e^x), stable for large |x|. */
    static double softplus(double x) {
        return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
    }
}
