package dev.align.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.align.core.Engines;
import dev.align.core.data.TokenBatch;
import dev.align.core.generate.Generation;
import dev.align.core.generate.GenerationConfig;
import dev.align.core.generate.Generator;
import dev.align.core.generate.SamplingParams;
import dev.align.core.scoring.LogProbs;
import dev.align.core.testing.Fixtures;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Inference on packed weights ({@link DecoderLM#packWeights}: oneDNN layouts, packed for one row and for
 * several) gives the plain weights' numbers up to float rounding, on models with and
 * without biases and with a tied head; greedy generation picks the same tokens; gradients never run
 * through packed products; closing the handle restores the plain path exactly.
 */
class PackedWeightsTest {
    private static final List<long[]> SEQS = List.of(
            new long[] {2, 17, 33, 90, 41, 5, 7, 8}, new long[] {2, 8, 9, 10, 11}, new long[] {2, 44, 45});

    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa", "gpt2", "qwen2_tied_bf16"})
    void packedForwardMatchesPlainWeights(String ckpt) {
        TokenBatch batch = TokenBatch.rightPadded(SEQS, new int[] {1, 1, 1}, 0);
        try (NDManager root = Engines.newManager(); DecoderLM model = DecoderLM.load(Fixtures.reference(ckpt), root)) {
            float[] plain = logProbs(model, batch, root);
            for (int rows : new int[] {1, 3}) {
                float[] packed;
                try (DecoderLM.PackedWeights p = model.packWeights(rows)) {
                    // 4 linear weights per layer and the head
                    assertEquals(4 * model.config().layers() + 1, model.packedWeightCount());
                    packed = logProbs(model, batch, root);
                    // the products read the packed copies: zeroing a plain weight changes nothing now
                    NDArray w = model.parameter("layers.0.qkv.weight").value();
                    try (NDArray saved = w.duplicate()) {
                        w.muli(0);
                        assertArrayEquals(packed, logProbs(model, batch, root), "packed copies used");
                        w.addi(saved);
                    }
                }
                assertEquals(0, model.packedWeightCount());
                double max = 0;
                for (int i = 0; i < plain.length; i++) {
                    max = Math.max(max, Math.abs(packed[i] - plain[i]));
                }
                assertTrue(max < 2e-5, ckpt + ", packed for " + rows + " rows: max |Δ log-prob| " + max);
            }
            assertArrayEquals(plain, logProbs(model, batch, root), "closing the handle restores the plain weights");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void greedyGenerationIsUnchanged(int rows) {
        try (NDManager root = Engines.newManager();
                DecoderLM model = DecoderLM.load(Fixtures.reference("llama_gqa"), root)) {
            List<long[]> prompts = SEQS.subList(0, rows);
            GenerationConfig cfg = GenerationConfig.of(12, SamplingParams.greedy());
            List<Generation> plain = new Generator(model, null).setPackWeights(false).generate(prompts, cfg);
            List<Generation> packed = new Generator(model, null).generate(prompts, cfg);
            for (int r = 0; r < rows; r++) {
                assertArrayEquals(plain.get(r).tokens(), packed.get(r).tokens(), "row " + r);
                assertArrayEquals(plain.get(r).logprobs(), packed.get(r).logprobs(), 1e-4f, "row " + r);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void gradientsIgnorePackedWeights(int rows) {
        TokenBatch batch = TokenBatch.rightPadded(SEQS, new int[] {1, 1, 1}, 0);
        try (NDManager root = Engines.newManager(); DecoderLM model = DecoderLM.load(Fixtures.reference("gpt2"), root)) {
            model.setTrainable(true);
            float[] plain = qkvGradient(model, batch, root);
            float[] packed;
            try (DecoderLM.PackedWeights p = model.packWeights(rows)) {
                packed = qkvGradient(model, batch, root);
            }
            assertTrue(Math.abs(plain[0]) + Math.abs(plain[1]) > 0, "a gradient");
            assertArrayEquals(plain, packed, "inside a GradientCollector the plain weights run");
        }
    }

    private static float[] logProbs(DecoderLM model, TokenBatch batch, NDManager root) {
        try (NDScope scope = new NDScope()) {
            return LogProbs.forBatch(model, batch.toTensors(root, 0)).toFloatArray();
        }
    }

    private static float[] qkvGradient(DecoderLM model, TokenBatch batch, NDManager root) {
        try (NDScope scope = new NDScope(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray lp = LogProbs.forBatch(model, batch.toTensors(root, 0));
            gc.backward(lp.sum());
            NDArray g = model.parameter("layers.0.qkv.weight").value().getGradient();
            float[] out = g.toFloatArray();
            model.parameters().forEach(
                    p -> ai.djl.pytorch.jni.JniUtils.zeroGrad((ai.djl.pytorch.engine.PtNDArray) p.value()));
            assertEquals(out.length, g.size());
            return out;
        }
    }
}
