/**
 * What PPO and GRPO share: rollouts sampled with the generation engine ({@link dev.align.po.rollout.Rollouts}),
 * their token layout for teacher-forced forwards ({@link dev.align.po.rollout.RolloutBatch}), the policy and
 * its reference ({@link dev.align.po.rollout.Policy}), rewards from Java reward functions and a reward model
 * ({@link dev.align.po.rollout.RewardFunction}, {@link dev.align.po.rollout.Rewarder}), greedy held-out
 * evaluation, and run plumbing.
 */
package dev.align.po.rollout;
