package dev.align.core.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.align.core.Engines;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.DecoderLM.Param;
import dev.align.core.nd.Tensors;
import dev.align.core.testing.Fixtures;
import dev.align.core.testing.ModelTesting;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The chunked head ({@link LogProbs#headObjective}) against the plain path (whole [B, T, V] logits,
 * log-softmax, gather, autograd): the same objective, per-token log-probs, argmax hits and gradients of
 * every parameter, on the untied llama fixture and the tied-head qwen2 fixture, with chunks that split
 * the rows unevenly and with a frozen head.
 */
class HeadObjectiveTest {

    @ParameterizedTest
    @CsvSource({"llama_gqa, 5, true, 9", "llama_gqa, 512, true, 9", "qwen2_tied_bf16, 7, true, 9", "llama_gqa, 5, false, 9",
            "llama_gqa, 64, true, 50", "qwen2_tied_bf16, 100, true, 50", "llama_gqa, 40, false, 50"})
    void matchesThePlainPath(String fixture, long chunk, boolean headTrains, int length) {
        TokenBatch batch = ModelTesting.threeRows(5, length); // 50: ≥ 128 positions, the products through oneDNN
        long total = batch.labelCount();
        try (NDManager root = Engines.newManager(); DecoderLM model = DecoderLM.load(Fixtures.reference(fixture), root)) {
            model.setTrainable(true);
            if (!headTrains) {
                model.headWeight().setRequiresGradient(false);
            }
            double plainLoss;
            float[] plainLogps;
            float[] plainHits;
            try (NDScope scope = new NDScope(); GradientCollector gc = Engines.init().newGradientCollector()) {
                TokenBatch.Tensors4 t = batch.toTensors(root, 0);
                NDArray hidden = model.hidden(t.ids(), t.positions(), t.mask(), null);
                NDArray logits = model.logits(hidden);
                NDArray lp = LogProbs.tokenLogProbs(logits, t.labels()); // [B,T]
                NDArray loss = lp.mul(t.weights()).sum().mul(Tensors.scalar(root, -1f / total));
                gc.backward(loss);
                plainLoss = loss.getFloat();
                plainLogps = lp.toFloatArray();
                plainHits = logits.argMax(2).eq(t.labels()).toType(DataType.FLOAT32, false).toFloatArray();
            }
            List<float[]> plainGrads = ModelTesting.grads(model);
            zeroGrads(model);

            double loss;
            try (NDScope scope = new NDScope(); GradientCollector gc = Engines.init().newGradientCollector()) {
                TokenBatch.Tensors4 t = batch.toTensors(root, 0);
                NDArray hidden = model.hidden(t.ids(), t.positions(), t.mask(), null);
                NDArray coef = t.weights().mul(Tensors.scalar(root, -1f / total));
                LogProbs.HeadObjective o = LogProbs.headObjective(model, hidden, t.labels(), coef, chunk);
                gc.backward(o.value());
                loss = o.value().getFloat();
                assertClose(plainLogps, o.logps().toFloatArray(), 1e-5, "log-probs");
                assertClose(plainHits, o.hits().toFloatArray(), 0, "argmax hits");
            }
            assertEquals(plainLoss, loss, 1e-6, "objective");
            List<float[]> chunked = ModelTesting.grads(model);
            List<Param> params = model.parameters();
            for (int i = 0; i < params.size(); i++) {
                String name = params.get(i).name();
                if (!headTrains && params.get(i).value() == model.headWeight()) {
                    assertNull(chunked.get(i), "a frozen head gets no gradient");
                    continue;
                }
                assertClose(plainGrads.get(i), chunked.get(i), 1e-5, "gradient of " + name);
            }
        }
    }

    /** Outside gradient recording: values only, and the same numbers. */
    @ParameterizedTest
    @CsvSource({"llama_gqa, 3", "qwen2_tied_bf16, 1000"})
    void withoutGradients(String fixture, long chunk) {
        TokenBatch batch = ModelTesting.threeRows(5, 9); // 37 positions
        try (NDManager root = Engines.newManager(); DecoderLM model = DecoderLM.load(Fixtures.reference(fixture), root);
                NDScope scope = new NDScope()) {
            TokenBatch.Tensors4 t = batch.toTensors(root, 0);
            NDArray hidden = model.hidden(t.ids(), t.positions(), t.mask(), null);
            float[] plain = LogProbs.tokenLogProbs(model.logits(hidden), t.labels()).toFloatArray();
            LogProbs.HeadObjective o = LogProbs.headObjective(model, hidden, t.labels(), t.weights(), chunk);
            assertClose(plain, o.logps().toFloatArray(), 1e-5, "log-probs");
            double expected = 0;
            float[] w = t.weights().toFloatArray();
            for (int i = 0; i < w.length; i++) {
                expected += w[i] * plain[i];
            }
            assertEquals(expected, o.value().getFloat(), 1e-4, "Σ weights · log p");
        }
    }

    private static void zeroGrads(DecoderLM model) {
        try (NDScope scope = new NDScope()) {
            for (Param p : model.parameters()) {
                NDArray g = JniUtils.getGradient((PtNDArray) p.value());
                if (g != null) {
                    g.subi(g);
                }
            }
        }
    }

    private static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertTrue(expected != null && actual != null, what + ": missing");
        assertEquals(expected.length, actual.length, what + ": length");
        double max = 0;
        double scale = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs(expected[i] - actual[i]));
            scale = Math.max(scale, Math.abs(expected[i]));
        }
        assertTrue(max <= tol * Math.max(1, scale), what + ": max |Δ| " + max + " (largest |value| " + scale + ")");
    }
}
