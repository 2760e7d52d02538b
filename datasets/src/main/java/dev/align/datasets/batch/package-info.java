/**
 * Batching: right-padded token batches for SFT (packed or not), preference pairs, whole ranking groups
 * and unpaired examples; deterministic shuffling, length grouping, best-fit-decreasing packing,
 * train/eval splits, and a data loader whose place can be saved and restored exactly.
 */
package dev.align.datasets.batch;
