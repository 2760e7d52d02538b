package dev.align.core.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.Engines;
import dev.align.core.model.AttentionMask;
import dev.align.core.model.DecoderLM;
import dev.align.core.nd.Tensors;
import dev.align.core.testing.Fixtures;
import dev.align.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Cached decoding against a full forward over the growing sequence: for every architecture fixture, a
 * batch of left-padded prompts of different lengths is prefilled and decoded greedily with the KV cache;
 * at every step each row's logits must equal (to 1e-4) the last-position logits of an uncached,
 * unpadded forward over that row's prompt plus the tokens generated so far, and the greedy tokens must
 * agree.
 */
class CachedDecodingTest {
    private static final int STEPS = 10;

    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa", "qwen2_tied_bf16", "gpt2"})
    void cachedMatchesFullForward(String ckpt) {
        check(Fixtures.reference(ckpt), 0);
    }

    /**
     * The same with packed weights held (oneDNN layouts, packed for the batch's rows),
     * where llama-family models decode each step in one TorchScript call ({@link DecoderLM#decodeStep}).
     */
    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa:3", "llama_gqa:1", "qwen2_tied_bf16:3", "qwen2_tied_bf16:1", "gpt2:3"})
    void packedAndCompiledDecodingMatchFullForward(String spec) {
        String[] p = spec.split(":");
        check(Fixtures.reference(p[0]), Integer.parseInt(p[1]));
    }

    /** Mistral's sliding window (4 slots, shorter than every sequence) on llama_gqa's weights. */
    @Test
    void slidingWindowMatchesFullForward(@TempDir Path dir) throws IOException {
        Path src = Fixtures.reference("llama_gqa");
        for (String f : List.of("model.safetensors", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")) {
            Files.copy(src.resolve(f), dir.resolve(f));
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode cfg = (ObjectNode) json.readTree(src.resolve("config.json").toFile());
        cfg.put("model_type", "mistral").put("sliding_window", 4);
        cfg.putArray("architectures").add("MistralForCausalLM");
        json.writeValue(dir.resolve("config.json").toFile(), cfg);
        check(dir, 0);
        check(dir, 1);
    }

    /** @param packRows 0: plain weights; else decode with {@code model.packWeights(packRows)} held */
    private static void check(Path dir, int packRows) {
        List<String> texts = List.of("bidu bulu bena bilo boko", "bega", "bimu bemo biza beli bobo bida boba boza bome");
        try (NDManager root = Engines.newManager();
                Tokenizer tok = Tokenizer.load(dir);
                DecoderLM model = DecoderLM.load(dir, root)) {
            List<long[]> prompts = new ArrayList<>();
            for (String t : texts) {
                prompts.add(tok.encode(t));
            }
            assertTrue(prompts.get(1).length < prompts.get(0).length && prompts.get(0).length < prompts.get(2).length);
            int b = prompts.size();
            int vocab = model.config().vocabSize();
            List<long[]> seqs = new ArrayList<>(prompts);
            try (DecoderLM.PackedWeights packed = packRows > 0 ? model.packWeights(packRows) : null;
                    DecodeSession session = new DecodeSession(model, prompts, STEPS, tok.padId(), root)) {
                assertEquals(packRows > 0 && !model.config().modelType().equals("gpt2"), model.decodesCompiled(),
                        "one-call decoding steps exactly for llama-family models with packed weights");
                float[] logits;
                try (NDScope scope = new NDScope()) {
                    logits = session.prefill().toFloatArray(); // [B,V]
                }
                for (int step = 0; step < STEPS; step++) {
                    long[] next = new long[b];
                    for (int r = 0; r < b; r++) {
                        float[] expected = lastLogits(model, root, seqs.get(r));
                        float[] got = Arrays.copyOfRange(logits, r * vocab, (r + 1) * vocab);
                        for (int v = 0; v < vocab; v++) {
                            assertEquals(expected[v], got[v], 1e-4, dir.getFileName() + " step " + step + " row " + r + " logit " + v);
                        }
                        next[r] = argmax(got);
                        assertEquals(argmax(expected), next[r], "greedy token, step " + step + " row " + r);
                        long[] s = Arrays.copyOf(seqs.get(r), seqs.get(r).length + 1);
                        s[s.length - 1] = next[r];
                        seqs.set(r, s);
                    }
                    if (step + 1 < STEPS) {
                        try (NDScope scope = new NDScope()) {
                            logits = session.step(next).toFloatArray();
                        }
                    }
                }
                assertEquals(prompts.get(2).length + STEPS - 1, session.length());
            }
        }
    }

    /** Logits [V] at the last position of one unpadded sequence, without a cache. */
    static float[] lastLogits(DecoderLM model, NDManager m, long[] seq) {
        int t = seq.length;
        long[] pos = new long[t];
        int[] seg = new int[t];
        for (int i = 0; i < t; i++) {
            pos[i] = i;
            seg[i] = 1;
        }
        try (NDScope scope = new NDScope()) {
            NDArray ids = Tensors.longs(m, seq, new Shape(1, t));
            NDArray p = Tensors.longs(m, pos, new Shape(1, t));
            NDArray mask = AttentionMask.causal(m, seg, 1, t, model.config().slidingWindow());
            NDArray hidden = model.hidden(ids, p, mask, null); // [1,T,H]
            return model.logits(hidden.get("0, " + (t - 1))).toFloatArray(); // [V]
        }
    }

    static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }
}
