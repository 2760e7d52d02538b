package dev.align.core.tokenizer;

import dev.align.core.AlignException;
import java.util.Arrays;

/**
 * The tokenization convention every method shares (TRL's, for prompt/completion data):
 *
 * <pre>
 *   prompt_ids = encode(prompt)
 *   full_ids   = encode(prompt + completion + eos)      one string; eos only if not already there
 *   completion = full_ids[len(prompt_ids):]             prompt_ids must be a prefix of full_ids
 * </pre>
 *
 * {@code encode} adds what the tokenizer's post-processor adds (e.g. {@code <s>}). Every completion
 * token, eos included, is scored as log p(token | all previous tokens); bos and prompt never are.
 *
 * @param ids the full sequence
 * @param promptLength how many leading ids are the prompt (bos included)
 */
public record PromptCompletion(long[] ids, int promptLength) {

    /** Number of completion tokens (eos included). */
    public int completionLength() {
        return ids.length - promptLength;
    }

    /**
     * Encodes a prompt/completion pair under the shared convention.
     *
     * @param appendEos append the tokenizer's eos token unless the completion already ends with it
     * @throws AlignException if the prompt's tokens are not a prefix of the full sequence's
     */
    public static PromptCompletion encode(Tokenizer tok, String prompt, String completion, boolean appendEos) {
        String eos = tok.eosToken();
        String full = prompt + completion;
        if (appendEos) {
            if (eos == null) {
                throw new AlignException(tok.dir() + ": the tokenizer has no eos_token to append");
            }
            if (!completion.endsWith(eos)) {
                full = full + eos;
            }
        }
        long[] promptIds = tok.encode(prompt);
        long[] fullIds = tok.encode(full);
        if (fullIds.length < promptIds.length
                || !Arrays.equals(promptIds, 0, promptIds.length, fullIds, 0, promptIds.length)) {
            throw new AlignException(
                    "the prompt's tokens are not a prefix of the prompt+completion tokens (the tokenizer merges"
                            + " across the boundary; start the completion with a space or end the prompt differently)");
        }
        return new PromptCompletion(fullIds, promptIds.length);
    }
}
