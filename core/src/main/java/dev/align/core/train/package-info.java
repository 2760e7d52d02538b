/**
 * What every training recipe shares, as small final classes and static helpers (no trainer base class):
 * {@link dev.align.core.train.AdamW} (torch.optim.AdamW), {@link dev.align.core.train.GradClip}
 * (clip_grad_norm_), {@link dev.align.core.train.LrSchedule} (transformers' schedules),
 * {@link dev.align.core.train.Accumulation} (loss scaling for gradient accumulation),
 * {@link dev.align.core.train.Checkpointer} and {@link dev.align.core.train.TrainingState} (atomic
 * checkpoints, exact resume), {@link dev.align.core.train.Metrics} (metrics.jsonl, progress bar, loss
 * plot), {@link dev.align.core.train.Provenance}, {@link dev.align.core.train.NanGuard} and
 * {@link dev.align.core.train.Rng}. docs/training.md shows how a recipe puts them together.
 */
package dev.align.core.train;
