/**
 * Reward models: the {@code align rm} recipe ({@link dev.align.rm.RmRecipe}), the batched reward forward
 * ({@link dev.align.rm.Rewards}), loading and saving ({@link dev.align.rm.RewardModels}), evaluation
 * metrics ({@link dev.align.rm.RewardStats}), the scoring API ({@link dev.align.rm.RewardScorer}) and the
 * demo's step ({@link dev.align.rm.RmDemo}). Objectives live in {@code dev.align.rm.loss}.
 */
package dev.align.rm;
