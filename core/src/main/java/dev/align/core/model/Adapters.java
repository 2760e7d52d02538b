package dev.align.core.model;

import ai.djl.ndarray.NDArray;

/**
 * Extra trainable paths added to the model's linear layers (LoRA). The model asks for a delta after
 * each projection and adds it to the projection's output; a null delta means none.
 */
public interface Adapters {
    /** The linear layers an adapter can attach to, by their Hugging Face module names. */
    enum Module {
        /** llama {@code self_attn.q_proj}. */
        Q_PROJ("q_proj"),
        /** llama {@code self_attn.k_proj}. */
        K_PROJ("k_proj"),
        /** llama {@code self_attn.v_proj}. */
        V_PROJ("v_proj"),
        /** llama {@code self_attn.o_proj}. */
        O_PROJ("o_proj"),
        /** llama {@code mlp.gate_proj}. */
        GATE_PROJ("gate_proj"),
        /** llama {@code mlp.up_proj}. */
        UP_PROJ("up_proj"),
        /** llama {@code mlp.down_proj}. */
        DOWN_PROJ("down_proj"),
        /** gpt2 {@code attn.c_attn} (q, k and v together). */
        C_ATTN("c_attn"),
        /** gpt2 {@code attn.c_proj}. */
        ATTN_C_PROJ("attn.c_proj"),
        /** gpt2 {@code mlp.c_fc}. */
        C_FC("c_fc"),
        /** gpt2 {@code mlp.c_proj}. */
        MLP_C_PROJ("mlp.c_proj");

        private final String hfName;

        Module(String hfName) {
            this.hfName = hfName;
        }

        /** The module's name as PEFT's {@code target_modules} spells it. */
        public String hfName() {
            return hfName;
        }
    }

    /**
     * The delta for {@code module} of {@code layer} given that layer's input {@code x} [B, T, in], shaped
     * like the module's output [B, T, out], or null.
     */
    NDArray delta(int layer, Module module, NDArray x);
}
