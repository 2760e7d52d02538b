/** Log-probabilities of labelled tokens and batched sequence scoring. */
package dev.align.core.scoring;
