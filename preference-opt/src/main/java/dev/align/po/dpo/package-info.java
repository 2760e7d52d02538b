/**
 * The DPO recipe (`align dpo`): policy and reference, the preference batch through the policy in one
 * forward, precomputed reference log-probs, TRL's metrics, evaluation, the demo's DPO step and win-rate,
 * and the DPO step benchmark.
 */
package dev.align.po.dpo;
