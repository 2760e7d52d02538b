package dev.align.datasets.batch;

import dev.align.core.BadInputException;
import java.util.Arrays;

/** Deterministic train/eval splits of example (or group) indices. */
public final class Splits {
    private Splits() {}

    /**
     * Index sets of a split, each ascending.
     *
     * @param train [N − E]
     * @param eval [E]
     */
    public record Split(int[] train, int[] eval) {}

    /**
     * A random split of 0..n−1 with {@code round(n · evalFraction)} eval indices (at least 1 when the
     * fraction is positive and n ≥ 2), drawn from {@code seed}.
     */
    public static Split trainEval(int n, double evalFraction, long seed) {
        if (!(evalFraction >= 0 && evalFraction < 1)) {
            throw new BadInputException("eval_fraction: must be in [0, 1), got " + evalFraction);
        }
        int e = (int) Math.round(n * evalFraction);
        if (evalFraction > 0 && n >= 2) {
            e = Math.max(1, Math.min(n - 1, e));
        }
        return trainEval(n, e, seed);
    }

    /** A random split of 0..n−1 with {@code evalCount} eval indices, drawn from {@code seed}. */
    public static Split trainEval(int n, int evalCount, long seed) {
        if (evalCount < 0 || evalCount > n) {
            throw new BadInputException("eval size: must be in [0, " + n + "], got " + evalCount);
        }
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        new SeededRandom(seed).shuffle(idx);
        int[] eval = Arrays.copyOfRange(idx, 0, evalCount);
        int[] train = Arrays.copyOfRange(idx, evalCount, n);
        Arrays.sort(eval);
        Arrays.sort(train);
        return new Split(train, eval);
    }

    /** 0..n−1. */
    public static int[] all(int n) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        return idx;
    }
}
