package dev.align.core.generate;

/**
 * One row's result.
 *
 * @param tokens the new token ids, the eos token included when the row ended on it
 * @param text the text of the new tokens as it follows the prompt (special tokens skipped, eos not
 *     included, cut before the stop string when one ended the row); null without a tokenizer
 * @param logprobs per token, log p of the token under the distribution it was drawn from: the processed
 *     logits (repetition penalty, temperature, top-k, top-p, min-p as configured; greedy: after the
 *     penalty only), renormalised — vLLM's "processed" log-probs
 * @param rawLogprobs per token, log p of the token under the model's own distribution: log-softmax of the
 *     raw logits, temperature 1, no processors — vLLM's "raw" log-probs and what PPO/GRPO use for
 *     the behaviour policy (they divide by the temperature themselves where they need to)
 * @param finishReason why the row stopped
 * @param promptTokens the prompt's length in tokens
 */
public record Generation(
        long[] tokens, String text, float[] logprobs, float[] rawLogprobs, FinishReason finishReason, int promptTokens) {

    /** Why a row stopped. */
    public enum FinishReason {
        /** It produced an end-of-sequence token (included in {@code tokens}). */
        EOS,
        /** It produced {@code max_new_tokens} tokens. */
        LENGTH,
        /** Its text contains a stop string (the text is cut before it; the tokens are not cut). */
        STOP;

        /** The lower-case name written to output files: eos, length, stop. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Number of new tokens. */
    public int length() {
        return tokens.length;
    }
}
