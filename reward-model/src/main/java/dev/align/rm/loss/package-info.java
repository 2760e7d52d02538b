/** Reward-model objectives: pairwise Bradley-Terry (margin, centering) and InstructGPT K-wise ranking. */
package dev.align.rm.loss;
