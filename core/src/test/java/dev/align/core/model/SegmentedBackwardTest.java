package dev.align.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.align.core.Engines;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.DecoderLM.Param;
import dev.align.core.scoring.LogProbs;
import dev.align.core.testing.Fixtures;
import dev.align.core.testing.ModelTesting;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The segmented step ({@link DecoderLM#setSegmentedBackward}) against plain autograd on the same model
 * and batch: the same loss and the same gradient for every parameter — when backward first creates the
 * gradients and when it adds to existing ones (a second micro-batch) — on the llama fixture with
 * grouped-query attention and the qwen2 fixture with q/k/v biases and a tied head, with the plain
 * causal mask and with an explicit (sliding-window) mask, with the fused and the eager attention.
 */
class SegmentedBackwardTest {

    @ParameterizedTest
    @CsvSource({"llama_gqa, 0, SDPA", "llama_gqa, 5, SDPA", "qwen2_tied_bf16, 0, SDPA", "qwen2_tied_bf16, 4, SDPA",
            "llama_gqa, 0, EAGER", "qwen2_tied_bf16, 4, EAGER"})
    void matchesAutograd(String fixture, int window, DecoderLM.AttentionImpl attention) {
        TokenBatch batch = ModelTesting.threeRows(11, 9);
        List<float[]> plain;
        double plainLoss;
        try (NDManager root = Engines.newManager(); DecoderLM model = DecoderLM.load(Fixtures.reference(fixture), root)) {
            model.setTrainable(true);
            model.setAttention(attention);
            plainLoss = step(model, batch, root, window);
            plain = ModelTesting.grads(model);
        }
        try (NDManager root = Engines.newManager(); DecoderLM model = DecoderLM.load(Fixtures.reference(fixture), root)) {
            model.setTrainable(true);
            model.setAttention(attention);
            model.setSegmentedBackward(true);
            double loss = step(model, batch, root, window); // creates every gradient
            assertEquals(plainLoss, loss, 1e-6, "loss");
            assertEquals(0, SegmentedBackward.pending(), "nothing left pending");
            List<float[]> seg = ModelTesting.grads(model);
            List<Param> params = model.parameters();
            for (int i = 0; i < params.size(); i++) {
                assertClose(plain.get(i), seg.get(i), 1, 2e-5, "gradient of " + params.get(i).name());
            }
            step(model, batch, root, window); // adds to them in place
            List<float[]> twice = ModelTesting.grads(model);
            for (int i = 0; i < params.size(); i++) {
                assertClose(plain.get(i), twice.get(i), 2, 2e-5, "accumulated gradient of " + params.get(i).name());
            }
        }
    }

    /** A recorded forward whose step ends without a backward is dropped; the next step is unaffected. */
    @Test
    void aForwardWithoutBackwardIsDropped() {
        TokenBatch batch = ModelTesting.threeRows(11, 9);
        List<float[]> plain;
        try (NDManager root = Engines.newManager(); DecoderLM model = DecoderLM.load(Fixtures.reference("llama_gqa"), root)) {
            model.setTrainable(true);
            step(model, batch, root, 0);
            plain = ModelTesting.grads(model);
        }
        try (NDManager root = Engines.newManager(); DecoderLM model = DecoderLM.load(Fixtures.reference("llama_gqa"), root)) {
            model.setTrainable(true);
            model.setSegmentedBackward(true);
            try (NDScope scope = new NDScope(); GradientCollector gc = Engines.init().newGradientCollector()) {
                TokenBatch.Tensors4 t = batch.toTensors(root, 0);
                model.hidden(t.ids(), t.positions(), t.mask(), null);
                assertEquals(1, SegmentedBackward.pending(), "a recorded forward waits");
            }
            assertEquals(0, SegmentedBackward.pending(), "dropped with its step");
            try (NDScope scope = new NDScope()) { // not recorded: nothing waits
                TokenBatch.Tensors4 t = batch.toTensors(root, 0);
                model.hidden(t.ids(), t.positions(), t.mask(), null);
                assertEquals(0, SegmentedBackward.pending(), "an unrecorded forward is plain");
            }
            step(model, batch, root, 0);
            List<float[]> seg = ModelTesting.grads(model);
            for (int i = 0; i < seg.size(); i++) {
                assertClose(plain.get(i), seg.get(i), 1, 2e-5, "gradient " + i);
            }
        }
    }

    /** One SFT micro-step: the token-mean NLL through the chunked head, backward through the model. */
    private static double step(DecoderLM model, TokenBatch batch, NDManager root, int window) {
        long total = batch.labelCount();
        try (NDScope scope = new NDScope(); GradientCollector gc = Engines.init().newGradientCollector()) {
            TokenBatch.Tensors4 t = batch.toTensors(root, window);
            NDArray hidden = model.hidden(t.ids(), t.positions(), t.mask(), null);
            LogProbs.HeadObjective o = LogProbs.tokenMeanNll(model, hidden, t, total);
            SegmentedBackward.backward(gc, o.value());
            return o.value().getFloat();
        }
    }

    /** |times · expected − actual| ≤ tol · max(1, max |expected|), element-wise. */
    private static void assertClose(float[] expected, float[] actual, int times, double tol, String what) {
        assertNotNull(expected, what + ": no reference gradient");
        assertNotNull(actual, what + ": missing");
        assertEquals(expected.length, actual.length, what + ": length");
        double max = 0;
        double scale = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs(times * expected[i] - actual[i]));
            scale = Math.max(scale, Math.abs(times * expected[i]));
        }
        assertTrue(scale > 0, what + ": all zero");
        assertTrue(max <= tol * Math.max(1, scale), what + ": max |Δ| " + max + " (largest |value| " + scale + ")");
    }
}
