/**
 * Supervised fine-tuning ({@code align sft}) and pre-training ({@code align pretrain}): one recipe,
 * token-mean cross-entropy over the tokens that take loss (completions, or every token), full or LoRA,
 * plus the evaluation helpers the demo uses (exact match under greedy decoding). See docs/sft.md.
 */
package dev.align.sft;
