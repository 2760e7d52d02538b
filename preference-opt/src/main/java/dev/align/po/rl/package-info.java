/** Online RL pieces for PPO and GRPO: KL estimators and control, GAE, whitening, clipped losses, group advantages. */
package dev.align.po.rl;
