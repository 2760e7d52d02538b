package dev.align.datasets;

import java.util.Arrays;

/**
 * Token-length distribution of a file's sequences (before truncation); percentiles by nearest rank.
 *
 * @param count sequences counted
 */
public record LengthStats(int count, int p50, int p90, int p99, int max, double mean) {
    /** The statistics of the first {@code n} entries of {@code lengths}. */
    public static LengthStats of(int[] lengths, int n) {
        if (n == 0) {
            return new LengthStats(0, 0, 0, 0, 0, 0);
        }
        int[] s = Arrays.copyOf(lengths, n);
        Arrays.sort(s);
        long sum = 0;
        for (int v : s) {
            sum += v;
        }
        return new LengthStats(n, rank(s, 0.50), rank(s, 0.90), rank(s, 0.99), s[n - 1], (double) sum / n);
    }

    /** The nearest-rank percentile: the smallest value with at least fraction q of the values at or below it. */
    static int rank(int[] sorted, double q) {
        int k = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length, k) - 1)];
    }
}
