package dev.align.datasets.batch;

import dev.align.core.data.TokenBatch;

/**
 * Whole ranking groups as one batch: one row per response (each scored once), and the pairs as row
 * indices, so a reward model computes r(row) once and forms every pair's loss from
 * {@code r[better] − r[worse]}. A prompt's pairs are never split across batches.
 *
 * @param batch [R × T], R = total responses of the groups
 * @param groups G, the number of groups (prompts)
 * @param rowGroup [R]: the group of each row
 * @param better [N]: per pair, the row of the preferred response
 * @param worse [N]: per pair, the row of the other
 * @param margins [N]: per pair, its margin or NaN
 * @param pairGroup [N]: per pair, its group (for InstructGPT's per-prompt averaging)
 * @param lines [G]: per group, the record's line in the file
 */
public record RankingBatch(TokenBatch batch, int groups, int[] rowGroup, int[] better, int[] worse, double[] margins,
        int[] pairGroup, int[] lines) {
    /** Number of pairs. */
    public int pairs() {
        return better.length;
    }
}
