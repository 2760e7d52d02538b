package dev.align.datasets.batch;

import dev.align.core.data.TokenBatch;

/**
 * Unpaired-preference examples (KTO) as one batch, one sequence per row, labels over the completion.
 *
 * @param batch [B × T]
 * @param desirable [B]: per row, the record's label
 * @param lines [B]: per row, the record's line in the file
 */
public record UnpairedBatch(TokenBatch batch, boolean[] desirable, int[] lines) {}
