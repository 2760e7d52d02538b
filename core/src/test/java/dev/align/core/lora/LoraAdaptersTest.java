package dev.align.core.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import dev.align.core.Engines;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.DecoderLM;
import dev.align.core.scoring.LogProbs;
import dev.align.core.testing.Fixtures;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LoraAdaptersTest {
    @TempDir
    Path tmp;

    private static final TokenBatch BATCH = TokenBatch.rightPadded(
            List.of(new long[] {2, 17, 33, 90, 41, 5}, new long[] {2, 8, 9, 10}), new int[] {2, 1}, 1);

    private static float[] logProbs(DecoderLM m, NDManager root) {
        try (NDScope s = new NDScope()) {
            return LogProbs.forBatch(m, BATCH.toTensors(root, 0)).toFloatArray();
        }
    }

    private static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    /**
     * Zero-initialised B leaves the model unchanged; with non-zero B the adapter forward equals the
     * merged weights' forward; save → load reproduces it; only adapter weights get gradients.
     */
    @ParameterizedTest
    @CsvSource({"llama_gqa,q_proj;v_proj;gate_proj;down_proj", "gpt2,c_attn;c_proj;c_fc"})
    void adapterEqualsMerge(String ckpt, String targets) {
        try (NDManager root = Engines.newManager(); DecoderLM model = DecoderLM.load(Fixtures.reference(ckpt), root)) {
            float[] base = logProbs(model, root);
            LoraAdapters lora = LoraAdapters.create(model, new LoraConfig(4, 8, 0.0, List.of(targets.split(";"))), 3);
            assertEquals(0, maxDiff(base, logProbs(model, root)), 1e-6, "zero-init B is a no-op");
            for (DecoderLM.Param p : lora.parameters()) { // give B weights values
                if (p.name().endsWith("lora_B.weight")) {
                    p.value().setRequiresGradient(false);
                    try (NDArray r = root.randomNormal(0f, 0.05f, p.value().getShape(), DataType.FLOAT32)) {
                        p.value().addi(r);
                    }
                    p.value().setRequiresGradient(true);
                }
            }
            float[] adapted = logProbs(model, root);
            assertTrue(maxDiff(base, adapted) > 1e-3, "adapters change the output");

            // gradients reach adapters only
            model.setTrainable(false);
            try (NDScope s = new NDScope(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(LogProbs.forBatch(model, BATCH.toTensors(root, 0)).sum());
                for (DecoderLM.Param p : model.parameters()) {
                    assertFalse(p.value().hasGradient(), p.name() + " is frozen");
                }
                for (DecoderLM.Param p : lora.parameters()) {
                    assertTrue(p.value().getGradient().abs().sum().getFloat() > 0, p.name() + " has a gradient");
                }
            }

            Path dir = tmp.resolve(ckpt + "-adapter");
            lora.save(dir, Fixtures.reference(ckpt).toString());
            model.setAdapters(null);
            try (LoraAdapters loaded = LoraAdapters.load(dir, model)) {
                assertEquals(0, maxDiff(adapted, logProbs(model, root)), 1e-6, "save/load");
                loaded.mergeInto(model);
                assertEquals(null, model.adapters());
                assertEquals(0, maxDiff(adapted, logProbs(model, root)), 2e-5, "merged weights");
            }
            lora.close();
        }
    }
}
