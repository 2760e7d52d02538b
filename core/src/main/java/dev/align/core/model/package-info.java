/** The decoder-only transformer (llama, mistral, qwen2, gpt2) with LM or reward head, its config, masks and KV cache. */
package dev.align.core.model;
