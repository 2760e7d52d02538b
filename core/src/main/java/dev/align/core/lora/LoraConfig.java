package dev.align.core.lora;

import java.util.List;

/**
 * LoRA hyper-parameters, as PEFT names them.
 *
 * @param r rank
 * @param alpha scaling numerator: the delta is (alpha / r)·B·A·x
 * @param dropout dropout on the adapter's input during training
 * @param targetModules module names (PEFT {@code target_modules}): llama {@code q_proj k_proj v_proj
 *     o_proj gate_proj up_proj down_proj}, gpt2 {@code c_attn c_proj c_fc} ({@code c_proj} matches both
 *     the attention and the MLP projection, as in PEFT); {@code all-linear} selects all of them
 */
public record LoraConfig(int r, double alpha, double dropout, List<String> targetModules) {
    public LoraConfig {
        if (r <= 0) {
            throw new IllegalArgumentException("lora_r must be positive, got " + r);
        }
        if (dropout < 0 || dropout >= 1) {
            throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + dropout);
        }
        targetModules = List.copyOf(targetModules);
    }

    /** alpha / r. */
    public double scaling() {
        return alpha / r;
    }
}
