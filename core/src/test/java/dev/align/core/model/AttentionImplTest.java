package dev.align.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.align.core.Engines;
import dev.align.core.data.TokenBatch;
import dev.align.core.scoring.LogProbs;
import dev.align.core.testing.Fixtures;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fused attention kernel (SDPA) and the explicit eager path agree on outputs and on parameter
 * gradients, with grouped-query attention, padding and packed rows (block-diagonal masks); right-padded
 * unpacked rows use no mask tensor at all (the kernels' own causal mask) and give the same numbers.
 */
class AttentionImplTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa", "gpt2"})
    void sdpaMatchesEager(String ckpt) {
        // row 0: two packed examples (segments 1, 2) then padding; row 1: one example, no padding
        long[] ids = {2, 17, 33, 90, 2, 41, 5, 1, 2, 8, 9, 10, 11, 12, 13, 14};
        long[] pos = {0, 1, 2, 3, 0, 1, 2, 0, 0, 1, 2, 3, 4, 5, 6, 7};
        int[] seg = {1, 1, 1, 1, 2, 2, 2, 0, 1, 1, 1, 1, 1, 1, 1, 1};
        long[] labels = {17, 33, 90, -100, 41, 5, -100, -100, 9, 10, 11, 12, 13, 14, -100, -100};
        TokenBatch batch = new TokenBatch(2, 8, ids, pos, seg, labels);
        try (NDManager root = Engines.newManager(); DecoderLM model = DecoderLM.load(Fixtures.reference(ckpt), root)) {
            model.setTrainable(true);
            float[][] lp = new float[2][];
            float[][] grad = new float[2][];
            DecoderLM.AttentionImpl[] impls = {DecoderLM.AttentionImpl.SDPA, DecoderLM.AttentionImpl.EAGER};
            for (int i = 0; i < 2; i++) {
                model.setAttention(impls[i]);
                try (NDScope scope = new NDScope();
                        GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    TokenBatch.Tensors4 t = batch.toTensors(root, 0);
                    NDArray tok = LogProbs.forBatch(model, t);
                    lp[i] = tok.toFloatArray();
                    gc.backward(tok.sum());
                    NDArray g = model.parameter("layers.0.qkv.weight").value().getGradient();
                    grad[i] = g.toFloatArray();
                    List<DecoderLM.Param> ps = model.parameters();
                    ps.forEach(p -> ai.djl.pytorch.jni.JniUtils.zeroGrad((ai.djl.pytorch.engine.PtNDArray) p.value()));
                }
            }
            double maxLp = 0;
            for (int j = 0; j < lp[0].length; j++) {
                maxLp = Math.max(maxLp, Math.abs(lp[0][j] - lp[1][j]));
            }
            double maxG = 0;
            double scale = 0;
            for (int j = 0; j < grad[0].length; j++) {
                maxG = Math.max(maxG, Math.abs(grad[0][j] - grad[1][j]));
                scale = Math.max(scale, Math.abs(grad[1][j]));
            }
            assertTrue(scale > 1e-3, "gradients are not trivially zero");
            assertEquals(0, maxLp, 1e-5, "token log-probs");
            assertEquals(0, maxG, 1e-5 * Math.max(1, scale), "qkv gradient");
        }
    }

    @Test
    void plainCausalNeedsNoMaskOnlyForUnpackedRightPaddedRows() {
        assertTrue(AttentionMask.plainCausal(new int[] {1, 1, 0, 1, 1, 1}, 2, 3, 0));
        assertTrue(AttentionMask.plainCausal(new int[] {1, 1, 0, 1, 1, 1}, 2, 3, 3), "window beyond T");
        assertTrue(!AttentionMask.plainCausal(new int[] {1, 1, 0, 1, 1, 1}, 2, 3, 2), "a window in reach");
        assertTrue(!AttentionMask.plainCausal(new int[] {1, 2, 0}, 1, 3, 0), "packed");
        assertTrue(!AttentionMask.plainCausal(new int[] {0, 1, 1}, 1, 3, 0), "left padding");
        assertTrue(!AttentionMask.plainCausal(new int[] {1, 0, 1}, 1, 3, 0), "a token after padding");
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa", "gpt2"})
    void rightPaddedRowsWithoutMaskMatchTheExplicitMask(String ckpt) {
        // rows of lengths 8, 5 and 3, right-padded to 8
        TokenBatch batch = TokenBatch.rightPadded(List.of(
                new long[] {2, 17, 33, 90, 41, 5, 7, 8}, new long[] {2, 8, 9, 10, 11}, new long[] {2, 44, 45}),
                new int[] {1, 2, 1}, 0);
        try (NDManager root = Engines.newManager(); DecoderLM model = DecoderLM.load(Fixtures.reference(ckpt), root)) {
            model.setTrainable(true);
            float[][] lp = new float[4][];
            float[][] grad = new float[4][];
            for (int i = 0; i < 4; i++) {
                model.setAttention(i % 2 == 0 ? DecoderLM.AttentionImpl.SDPA : DecoderLM.AttentionImpl.EAGER);
                try (NDScope scope = new NDScope();
                        GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    TokenBatch.Tensors4 t = batch.toTensors(root, 0);
                    assertNull(t.mask(), "no mask tensor for right-padded rows");
                    if (i >= 2) { // the same batch with the mask built out
                        NDArray mask = AttentionMask.explicit(root, batch.segments(), batch.rows(), batch.length(), 0);
                        assertNotNull(mask);
                        t = new TokenBatch.Tensors4(t.ids(), t.positions(), mask, t.labels(), t.weights());
                    }
                    NDArray tok = LogProbs.forBatch(model, t);
                    lp[i] = tok.toFloatArray();
                    gc.backward(tok.sum());
                    grad[i] = model.parameter("layers.0.qkv.weight").value().getGradient().toFloatArray();
                    model.parameters().forEach(
                            p -> ai.djl.pytorch.jni.JniUtils.zeroGrad((ai.djl.pytorch.engine.PtNDArray) p.value()));
                }
            }
            double scale = 0;
            for (float g : grad[2]) {
                scale = Math.max(scale, Math.abs(g));
            }
            assertTrue(scale > 1e-3, "gradients are not trivially zero");
            for (int i : new int[] {0, 1, 3}) {
                double maxLp = 0;
                double maxG = 0;
                for (int j = 0; j < lp[2].length; j++) {
                    maxLp = Math.max(maxLp, Math.abs(lp[i][j] - lp[2][j]));
                }
                for (int j = 0; j < grad[2].length; j++) {
                    maxG = Math.max(maxG, Math.abs(grad[i][j] - grad[2][j]));
                }
                assertEquals(0, maxLp, 1e-5, "token log-probs, run " + i);
                assertEquals(0, maxG, 1e-5 * Math.max(1, scale), "qkv gradient, run " + i);
            }
            assertTrue(lp[2][1] != 0 && lp[1][8 + 5] == 0, "real tokens scored, padding not");
        }
    }
}
