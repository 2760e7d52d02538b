/**
 * PPO ({@code align ppo}): RLHF with a reward model, a separate critic, a KL penalty to the reference and
 * GAE — the recipe, its keys, its reward shaping, the critic, and the demo step.
 */
package dev.align.po.ppo;
