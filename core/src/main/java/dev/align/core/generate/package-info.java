/**
 * Text generation: incremental decoding with a preallocated key/value cache ({@link
 * dev.align.core.generate.DecodeSession}), Hugging Face's logits processors and samplers ({@link
 * dev.align.core.generate.LogitsProcessors}, {@link dev.align.core.generate.Sampler}), and the batched
 * generation loop with stop conditions and per-token log-probs ({@link dev.align.core.generate.Generator})
 * that {@code align generate}, {@code align chat}, PPO/GRPO rollouts and evaluations call.
 */
package dev.align.core.generate;
