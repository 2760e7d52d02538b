/**
 * The decoder-only transformer (llama, mistral, qwen2, gpt2) with LM or reward head, its config, masks and
 * KV cache, and the segmented backward of a training step ({@link dev.align.core.model.SegmentedBackward}).
 */
package dev.align.core.model;
