package dev.align.datasets.batch;

import dev.align.core.data.TokenBatch;

/**
 * P preference pairs as one batch of 2P rows: rows 0..P−1 are the chosen sequences, rows P..2P−1 the
 * rejected ones, in the same pair order (TRL concatenates them the same way). Labels cover each
 * completion (eos included), never the prompt.
 *
 * @param batch [2P × T]
 * @param pairs P
 * @param margins per pair, the record's margin or NaN
 * @param lines per pair, the record's line in the file
 */
public record PreferenceBatch(TokenBatch batch, int pairs, double[] margins, int[] lines) {}
