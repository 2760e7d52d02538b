/** Log-probabilities of labelled tokens, batched sequence scoring, and the reward-model forward and scoring. */
package dev.align.core.scoring;
