package dev.align.core.model;

import dev.align.core.model.ModelConfig.Family;
import dev.align.core.model.ModelConfig.Head;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * How Hugging Face's parameter names map onto Align's internal parameters. Internally the query, key
 * and value projections are one fused matrix (and the llama gate and up projections another), so one
 * matrix multiply replaces three (two); GPT-2's Conv1D weights ([in, out]) are held as [out, in]
 * like every other linear layer. Loading concatenates or transposes; saving splits and transposes back,
 * so files keep the exact names and shapes transformers writes.
 */
final class HfLayout {
    /** How the HF tensors of a binding combine into the internal tensor. */
    enum Kind {
        /** One tensor, as is. */
        PLAIN,
        /** Several tensors concatenated along axis 0. */
        ROWS,
        /** One GPT-2 Conv1D weight stored [in, out], held transposed. */
        CONV1D
    }

    /**
     * One internal parameter and the HF tensors it is made of.
     *
     * @param internal Align's name
     * @param kind how the parts combine
     * @param hf the HF names, in order
     * @param shapes the HF shapes, same order
     * @param decay whether AdamW decays it by default (linear weights yes; norms, biases, embeddings no)
     */
    record Binding(String internal, Kind kind, List<String> hf, List<long[]> shapes, boolean decay) {}

    private HfLayout() {}

    /** The bindings for a config; {@code prefix} is the transformer's prefix ("model.", "transformer." or ""). */
    static List<Binding> bindings(ModelConfig c, String prefix) {
        return c.family() == Family.LLAMA ? llama(c, prefix) : gpt2(c, prefix);
    }

    /** The prefix a fresh HF save uses. */
    static String defaultPrefix(ModelConfig c) {
        return c.family() == Family.LLAMA ? "model." : "transformer.";
    }

    /** HF tensors that may be present but carry no parameters (buffers older versions saved). */
    static Pattern ignorable(ModelConfig c, String prefix) {
        String p = Pattern.quote(prefix);
        if (c.family() == Family.GPT2) {
            String tiedHead = c.head() == Head.CAUSAL_LM ? "|lm_head\\.weight" : "";
            return Pattern.compile(p + "h\\.\\d+\\.attn\\.(bias|masked_bias)" + tiedHead);
        }
        String tiedHead = c.head() == Head.CAUSAL_LM && c.tieEmbeddings() ? "|lm_head\\.weight" : "";
        return Pattern.compile(p + "layers\\.\\d+\\.self_attn\\.rotary_emb\\.inv_freq" + tiedHead);
    }

    private static List<Binding> llama(ModelConfig c, String p) {
        long h = c.hidden();
        long qd = (long) c.heads() * c.headDim();
        long kd = (long) c.kvHeads() * c.headDim();
        long in = c.intermediate();
        List<Binding> b = new ArrayList<>();
        b.add(plain("embed", p + "embed_tokens.weight", false, c.vocabSize(), h));
        for (int i = 0; i < c.layers(); i++) {
            String l = "layers." + i + ".";
            String hl = p + "layers." + i + ".";
            b.add(plain(l + "norm1.weight", hl + "input_layernorm.weight", false, h));
            b.add(rows(l + "qkv.weight", true,
                    hl + "self_attn.q_proj.weight", new long[] {qd, h},
                    hl + "self_attn.k_proj.weight", new long[] {kd, h},
                    hl + "self_attn.v_proj.weight", new long[] {kd, h}));
            if (c.qkvBias()) {
                b.add(rows(l + "qkv.bias", false,
                        hl + "self_attn.q_proj.bias", new long[] {qd},
                        hl + "self_attn.k_proj.bias", new long[] {kd},
                        hl + "self_attn.v_proj.bias", new long[] {kd}));
            }
            b.add(plain(l + "o.weight", hl + "self_attn.o_proj.weight", true, h, qd));
            if (c.outBias()) {
                b.add(plain(l + "o.bias", hl + "self_attn.o_proj.bias", false, h));
            }
            b.add(plain(l + "norm2.weight", hl + "post_attention_layernorm.weight", false, h));
            b.add(rows(l + "up.weight", true,
                    hl + "mlp.gate_proj.weight", new long[] {in, h},
                    hl + "mlp.up_proj.weight", new long[] {in, h}));
            if (c.mlpBias()) {
                b.add(rows(l + "up.bias", false,
                        hl + "mlp.gate_proj.bias", new long[] {in},
                        hl + "mlp.up_proj.bias", new long[] {in}));
            }
            b.add(plain(l + "down.weight", hl + "mlp.down_proj.weight", true, h, in));
            if (c.mlpBias()) {
                b.add(plain(l + "down.bias", hl + "mlp.down_proj.bias", false, h));
            }
        }
        b.add(plain("norm.weight", p + "norm.weight", false, h));
        addHead(c, b);
        return b;
    }

    private static List<Binding> gpt2(ModelConfig c, String p) {
        long h = c.hidden();
        long in = c.intermediate();
        List<Binding> b = new ArrayList<>();
        b.add(plain("embed", p + "wte.weight", false, c.vocabSize(), h));
        b.add(plain("pos_embed", p + "wpe.weight", false, c.maxPositions(), h));
        for (int i = 0; i < c.layers(); i++) {
            String l = "layers." + i + ".";
            String hl = p + "h." + i + ".";
            b.add(plain(l + "norm1.weight", hl + "ln_1.weight", false, h));
            b.add(plain(l + "norm1.bias", hl + "ln_1.bias", false, h));
            b.add(conv(l + "qkv.weight", hl + "attn.c_attn.weight", h, 3 * h));
            b.add(plain(l + "qkv.bias", hl + "attn.c_attn.bias", false, 3 * h));
            b.add(conv(l + "o.weight", hl + "attn.c_proj.weight", h, h));
            b.add(plain(l + "o.bias", hl + "attn.c_proj.bias", false, h));
            b.add(plain(l + "norm2.weight", hl + "ln_2.weight", false, h));
            b.add(plain(l + "norm2.bias", hl + "ln_2.bias", false, h));
            b.add(conv(l + "up.weight", hl + "mlp.c_fc.weight", h, in));
            b.add(plain(l + "up.bias", hl + "mlp.c_fc.bias", false, in));
            b.add(conv(l + "down.weight", hl + "mlp.c_proj.weight", in, h));
            b.add(plain(l + "down.bias", hl + "mlp.c_proj.bias", false, h));
        }
        b.add(plain("norm.weight", p + "ln_f.weight", false, h));
        b.add(plain("norm.bias", p + "ln_f.bias", false, h));
        addHead(c, b);
        return b;
    }

    private static void addHead(ModelConfig c, List<Binding> b) {
        if (c.head() == Head.SEQUENCE_CLASSIFICATION) {
            b.add(plain("score", "score.weight", true, c.numLabels(), c.hidden()));
        } else if (!c.tieEmbeddings()) {
            b.add(plain("lm_head", "lm_head.weight", true, c.vocabSize(), c.hidden()));
        }
    }

    private static Binding plain(String internal, String hf, boolean decay, long... shape) {
        return new Binding(internal, Kind.PLAIN, List.of(hf), List.of(shape), decay);
    }

    private static Binding conv(String internal, String hf, long in, long out) {
        return new Binding(internal, Kind.CONV1D, List.of(hf), List.<long[]>of(new long[] {in, out}), true);
    }

    private static Binding rows(String internal, boolean decay, Object... nameShape) {
        List<String> names = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        for (int i = 0; i < nameShape.length; i += 2) {
            names.add((String) nameShape[i]);
            shapes.add((long[]) nameShape[i + 1]);
        }
        return new Binding(internal, Kind.ROWS, names, shapes, decay);
    }
}
