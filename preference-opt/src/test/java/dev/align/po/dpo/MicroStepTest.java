package dev.align.po.dpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.align.core.BadInputException;
import dev.align.core.Engines;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.DecoderLM;
import dev.align.core.testing.Fixtures;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.DataSettings;
import dev.align.datasets.Datasets;
import dev.align.datasets.TokenizedDataset;
import dev.align.datasets.batch.Batches;
import dev.align.po.loss.PreferenceLoss;
import dev.align.po.loss.PreferenceLosses;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The recipe's micro-step: accumulation over micro-batches of different sizes, and the config checks. */
class MicroStepTest {
    @TempDir
    Path tmp;

    private static Map<String, float[]> grads(DecoderLM m) {
        Map<String, float[]> g = new LinkedHashMap<>();
        for (DecoderLM.Param p : m.parameters()) {
            try (NDArray x = JniUtils.getGradient((PtNDArray) p.value())) {
                g.put(p.name(), x.toFloatArray());
            }
        }
        return g;
    }

    /** Micro-batches of 3 and 5 pairs, each scaled by its share, give the gradient of the 8-pair batch. */
    @Test
    void accumulationEqualsOneBigBatch() {
        DataSettings s = DataSettings.defaults().withSkipBadRecords(true).withCache(false, null);
        try (NDManager root = Engines.newManager();
                Tokenizer tok = Tokenizer.load(Fixtures.reference("dpo_policy"));
                TokenizedDataset ds = Datasets.load(Fixtures.reference("data/pref.jsonl"), s, tok);
                DecoderLM policy = DecoderLM.load(Fixtures.reference("dpo_policy"), root);
                DecoderLM ref = DecoderLM.load(Fixtures.reference("dpo_ref"), root)) {
            policy.setTrainable(true);
            Engine engine = Engines.init();
            PreferenceLoss loss = PreferenceLosses.create("sigmoid", 0.1, 0.1, 0);
            Reference reference = new Reference.FromModel(ref, false);
            long pad = Datasets.padId(tok);
            int[][] parts = {{0, 1, 2}, {3, 4, 5, 6, 7}};
            int[] all = {0, 1, 2, 3, 4, 5, 6, 7};
            double accumulated = 0;
            PairStats stats = new PairStats();
            for (int[] idx : parts) {
                try (NDScope scope = new NDScope()) {
                    TokenBatch.Tensors4 t = Batches.preference(ds, idx, pad).batch().toTensors(root, 0);
                    accumulated += DpoRecipe.microStep(engine, policy, loss, t, reference.logps(t, idx, root),
                            idx.length / 8.0, stats);
                }
            }
            Map<String, float[]> g1 = grads(policy);
            for (DecoderLM.Param p : policy.parameters()) {
                JniUtils.getGradient((PtNDArray) p.value()).subi(JniUtils.getGradient((PtNDArray) p.value()));
            }
            double whole;
            PairStats stats8 = new PairStats();
            try (NDScope scope = new NDScope()) {
                TokenBatch.Tensors4 t = Batches.preference(ds, all, pad).batch().toTensors(root, 0);
                whole = DpoRecipe.microStep(engine, policy, loss, t, reference.logps(t, all, root), 1.0, stats8);
            }
            Map<String, float[]> g2 = grads(policy);
            assertEquals(whole, accumulated, 1e-5);
            double maxAbs = 0;
            for (String k : g1.keySet()) {
                float[] a = g1.get(k);
                float[] b = g2.get(k);
                for (int i = 0; i < a.length; i++) {
                    assertEquals(b[i], a[i], 1e-5 + 1e-4 * Math.abs(b[i]), k + "[" + i + "]");
                    maxAbs = Math.max(maxAbs, Math.abs(b[i]));
                }
            }
            assertTrue(maxAbs > 1e-3, "gradients are not all ~0");
            assertEquals(stats8.metrics(loss, root), stats.metrics(loss, root));
        }
    }

    /** Steps of micro-step, clipping, AdamW and zeroing leave the number of live arrays unchanged. */
    @Test
    void noArraysLeakPerStep() {
        DataSettings s = DataSettings.defaults().withSkipBadRecords(true).withCache(false, null);
        try (NDManager root = Engines.newManager();
                Tokenizer tok = Tokenizer.load(Fixtures.reference("dpo_policy"));
                TokenizedDataset ds = Datasets.load(Fixtures.reference("data/pref.jsonl"), s, tok);
                DecoderLM policy = DecoderLM.load(Fixtures.reference("dpo_policy"), root);
                dev.align.core.train.AdamW opt = new dev.align.core.train.AdamW(policy.parameters(),
                        dev.align.core.train.AdamW.Options.DEFAULTS)) {
            policy.setTrainable(true);
            Engine engine = Engines.init();
            PreferenceLoss loss = PreferenceLosses.create("ipo", 0.1, 0, 0);
            Reference reference = new Reference.Precomputed(new float[ds.size()], new float[ds.size()]);
            long pad = Datasets.padId(tok);
            int before = 0;
            for (int step = 0; step < 12; step++) {
                int[] idx = {step % 8, 8 + step % 8, 16 + step % 8};
                PairStats stats = new PairStats();
                try (NDScope scope = new NDScope()) {
                    TokenBatch.Tensors4 t = Batches.preference(ds, idx, pad).batch().toTensors(root, 0);
                    DpoRecipe.microStep(engine, policy, loss, t, reference.logps(t, idx, root), 1.0, stats);
                }
                dev.align.core.train.GradClip.clipGlobalNorm(policy.parameters(), 1.0);
                opt.step(1e-4);
                opt.zeroGrad();
                stats.metrics(loss, root);
                if (step == 1) {
                    before = root.getManagedArrays().size();
                }
            }
            assertEquals(before, root.getManagedArrays().size(), "live arrays after 10 more steps");
        }
    }

    @Test
    void configChecksNameTheKey() {
        assertThrows(BadInputException.class, () -> new DpoArgs(null, 0.1, "robust", 0.5, 0.5, false, null, null).validate(),
                "robust needs ε < 0.5");
        BadInputException e = assertThrows(BadInputException.class,
                () -> new DpoArgs("ref", 0.1, "simpo", 0, 0.5, false, null, null).validate());
        assertTrue(e.getMessage().startsWith("ref_model: simpo is reference-free"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> new DpoArgs(null, 0.1, "orpo", 0, 0.5, true, null, null).validate());
        assertTrue(e.getMessage().startsWith("precompute_ref_log_probs:"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> new DpoArgs(null, 0, "sigmoid", 0, 0.5, false, null, null).validate());
        assertTrue(e.getMessage().startsWith("beta:"), e.getMessage());
        new DpoArgs(null, 0.1, "sigmoid", 0.5, 0.5, false, null, null).validate(); // cDPO's ε = 0.5 is allowed
    }
}
