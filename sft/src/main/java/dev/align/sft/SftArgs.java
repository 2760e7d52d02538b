package dev.align.sft;

import dev.align.core.BadInputException;

/**
 * SFT's own config keys (TRL's {@code SFTConfig} names where TRL has them), bound together with
 * {@code core.train.TrainingArgs} and {@code datasets.DataSettings} from one flat namespace.
 *
 * @param packing pack several examples into each row of {@code max_length} tokens (best-fit decreasing,
 *     attention never crossing examples); TRL's default false for {@code align sft}, true for
 *     {@code align pretrain}
 * @param groupByLength without packing, batch examples of similar length together (random batch order,
 *     little padding); Align's default true
 * @param tokenizer directory holding the tokenizer files; null: the model directory (needed when
 *     {@code model} is a config alone, for pre-training from scratch)
 */
public record SftArgs(boolean packing, boolean groupByLength, String tokenizer) {

    /** {@code align sft}'s defaults: no packing, grouped by length, the model's tokenizer. */
    public static SftArgs defaults() {
        return new SftArgs(false, true, null);
    }

    /** {@code align pretrain}'s defaults: packed rows. */
    public static SftArgs pretrainDefaults() {
        return new SftArgs(true, true, null);
    }

    /** Checks the values; errors name the key. */
    public SftArgs validate() {
        if (tokenizer != null && tokenizer.isBlank()) {
            throw new BadInputException("tokenizer: must name a directory (or be left out)");
        }
        return this;
    }
}
