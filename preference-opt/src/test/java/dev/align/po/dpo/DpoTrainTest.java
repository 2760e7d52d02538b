package dev.align.po.dpo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.model.DecoderLM;
import dev.align.core.testing.Fixtures;
import dev.align.core.train.Metrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Training: the reference never gets gradients, policy = reference values, learning, LoRA, resume. */
class DpoTrainTest {
    @TempDir
    Path tmp;

    private List<String> trainConfig(Path out, String... more) {
        List<String> o = new ArrayList<>(List.of(
                "model=" + Fixtures.reference("dpo_policy"),
                "train_file=" + Fixtures.reference("data/pref.jsonl"),
                "output_dir=" + out,
                "skip_bad_records=true",
                "cache_dir=" + tmp.resolve("cache"),
                "batch_size=4",
                "max_steps=1",
                "logging_steps=1",
                "learning_rate=1e-3",
                "progress=false"));
        o.addAll(List.of(more));
        return o;
    }

    private static Map<String, float[]> snapshot(DecoderLM m) {
        Map<String, float[]> s = new LinkedHashMap<>();
        for (DecoderLM.Param p : m.parameters()) {
            s.put(p.name(), p.value().toFloatArray());
        }
        return s;
    }

    private static void assertNoGradientAndUnchanged(DecoderLM m, Map<String, float[]> before) {
        for (DecoderLM.Param p : m.parameters()) {
            NDArray v = p.value();
            assertFalse(JniUtils.requiresGrad((PtNDArray) v), p.name() + " requires grad");
            assertNull(JniUtils.getGradient((PtNDArray) v), p.name() + " has a gradient");
            float[] now = v.toFloatArray();
            float[] was = before.get(p.name());
            for (int i = 0; i < now.length; i++) {
                assertEquals(Float.floatToRawIntBits(was[i]), Float.floatToRawIntBits(now[i]), p.name() + "[" + i + "] changed");
            }
        }
    }

    private static boolean changed(DecoderLM m, Map<String, float[]> before) {
        for (DecoderLM.Param p : m.parameters()) {
            if (!Arrays.equals(before.get(p.name()), p.value().toFloatArray())) {
                return true;
            }
        }
        return false;
    }

    @Test
    void frozenReferenceNeverReceivesGradients() {
        try (DpoRecipe r = DpoRecipe.setup(DpoRecipe.config(null, trainConfig(tmp.resolve("out"), "max_steps=2")))) {
            DecoderLM ref = r.referenceModel();
            assertNotNull(ref);
            assertTrue(ref != r.policy());
            Map<String, float[]> refBefore = snapshot(ref);
            Map<String, float[]> polBefore = snapshot(r.policy());
            r.train();
            assertNoGradientAndUnchanged(ref, refBefore);
            assertTrue(changed(r.policy(), polBefore), "the policy trained");
        }
    }

    @Test
    void loraReferenceIsTheBaseWithAdaptersOffAndNoCopy() {
        List<String> cfg = trainConfig(tmp.resolve("lora"), "lora_r=4", "lora_alpha=8", "max_steps=2",
                "lora_target_modules=[q_proj, v_proj, down_proj]");
        try (DpoRecipe r = DpoRecipe.setup(DpoRecipe.config(null, cfg))) {
            assertNull(r.referenceModel(), "no separate reference model");
            Reference.FromModel ref = (Reference.FromModel) r.trainReference();
            assertSame(r.policy(), ref.model());
            assertTrue(ref.adaptersOff());
            long base = r.policy().parameterCount();
            long held = 0;
            for (NDArray a : r.manager().getManagedArrays()) {
                held += a.size();
            }
            long adapters = 0;
            for (DecoderLM.Param p : r.adapters().parameters()) {
                adapters += p.value().size();
            }
            assertTrue(held < base + adapters + base / 10, "one model in memory: " + held + " elements held, base " + base);
            Map<String, float[]> baseBefore = snapshot(r.policy());
            r.train();
            assertNoGradientAndUnchanged(r.policy(), baseBefore); // the base (= the reference) is untouched
            assertSame(r.adapters(), r.policy().adapters(), "adapters re-attached after every reference pass");
            boolean bMoved = false;
            for (DecoderLM.Param p : r.adapters().parameters()) {
                if (p.name().endsWith("lora_B.weight")) {
                    for (float v : p.value().toFloatArray()) {
                        bMoved |= v != 0f;
                    }
                }
            }
            assertTrue(bMoved, "LoRA B left zero: the adapters did not train");
        }
        Path out = tmp.resolve("lora");
        assertTrue(Files.isRegularFile(out.resolve("adapter_model.safetensors")));
        assertTrue(Files.isRegularFile(out.resolve("adapter_config.json")));
    }

    /** Precomputed reference sums: the reference model is released, and training matches a live reference. */
    @Test
    void precomputedReferenceTrainsThePolicyAlone() {
        Path live = tmp.resolve("live");
        DpoRecipe.run(DpoRecipe.config(null, trainConfig(live, "max_steps=3", "ref_model=" + Fixtures.reference("dpo_ref"))));
        Path pre = tmp.resolve("pre");
        List<String> cfg = trainConfig(pre, "max_steps=3", "ref_model=" + Fixtures.reference("dpo_ref"),
                "precompute_ref_log_probs=true");
        try (DpoRecipe r = DpoRecipe.setup(DpoRecipe.config(null, cfg))) {
            assertNull(r.referenceModel(), "the reference model is released after the pass");
            assertTrue(r.trainReference() instanceof Reference.Precomputed);
            r.train();
        }
        List<JsonNode> a = Metrics.read(live.resolve(Metrics.FILE));
        List<JsonNode> b = Metrics.read(pre.resolve(Metrics.FILE));
        assertEquals(3, b.size());
        for (int i = 0; i < 3; i++) {
            for (String k : List.of("loss", "rewards/chosen", "rewards/margins", "rewards/accuracies", "logps/chosen")) {
                assertEquals(a.get(i).get(k).asDouble(), b.get(i).get(k).asDouble(), 1e-4, "step " + (i + 1) + " " + k);
            }
        }
    }

    /** LoRA with precomputed sums: they are the base model's (the adapters were not there yet). */
    @Test
    void loraPrecomputedSumsAreTheBaseModels() {
        List<String> cfg = trainConfig(tmp.resolve("lorapre"), "lora_r=4", "max_steps=2", "precompute_ref_log_probs=true");
        try (DpoRecipe r = DpoRecipe.setup(DpoRecipe.config(null, cfg))) {
            Reference.Precomputed pre = (Reference.Precomputed) r.trainReference();
            r.train();
            Reference.Precomputed base = RefLogpsCache.compute(r.trainSet(), new Reference.FromModel(r.policy(), true), 8,
                    1, r.manager());
            assertEquals(31, pre.chosen().length);
            for (int i = 0; i < 31; i++) {
                assertEquals(base.chosen()[i], pre.chosen()[i], 1e-3, "pair " + i);
                assertEquals(base.rejected()[i], pre.rejected()[i], 1e-3, "pair " + i);
            }
            Reference.Precomputed withAdapters = RefLogpsCache.compute(r.trainSet(),
                    new Reference.FromModel(r.policy(), false), 8, 1, r.manager());
            assertTrue(!Arrays.equals(withAdapters.chosen(), pre.chosen()), "the trained adapters change the log-probs");
        }
    }

    /** With policy = reference every pair has h = 0: sigmoid log 2, hinge 1, IPO 1/(2β)², accuracy 0. */
    @ParameterizedTest
    @CsvSource({"sigmoid,0.6931471805599453", "hinge,1.0", "ipo,25.0", "robust,0.6931471805599453"})
    void firstStepAtPolicyEqualsReference(String type, double expected) {
        Path out = tmp.resolve(type);
        List<String> cfg = trainConfig(out, "loss_type=" + type, "beta=0.1");
        if (type.equals("robust")) {
            cfg.add("label_smoothing=0.2");
        }
        DpoRecipe.run(DpoRecipe.config(null, cfg));
        JsonNode first = Metrics.read(out.resolve(Metrics.FILE)).get(0);
        assertEquals(1, first.get("step").asInt());
        assertEquals(expected, first.get("loss").asDouble(), 1e-5);
        assertEquals(0.0, first.get("rewards/chosen").asDouble(), 1e-6);
        assertEquals(0.0, first.get("rewards/margins").asDouble(), 1e-6);
        assertEquals(0.0, first.get("rewards/accuracies").asDouble(), 0.0);
        assertTrue(first.get("grad_norm").asDouble() > 0);
    }

    /** A few steps raise the training pairs' margins and accuracy (the loss falls). */
    @Test
    void learns() {
        Path out = tmp.resolve("learn");
        List<String> cfg = trainConfig(out, "max_steps=16", "batch_size=8", "learning_rate=2e-3",
                "lr_scheduler_type=constant", "eval_file=" + Fixtures.reference("data/pref.jsonl"), "eval_steps=0");
        DpoRecipe.Result r = DpoRecipe.run(DpoRecipe.config(null, cfg));
        List<JsonNode> lines = Metrics.read(out.resolve(Metrics.FILE));
        double firstLoss = lines.get(0).get("loss").asDouble();
        assertEquals(Math.log(2), firstLoss, 1e-5);
        assertTrue(r.evalMetrics().get("loss") < 0.4, "eval loss " + r.evalMetrics());
        assertTrue(r.evalMetrics().get("rewards/accuracies") > 0.9, "eval " + r.evalMetrics());
        assertTrue(r.evalMetrics().get("rewards/margins") > 0.5, "eval " + r.evalMetrics());
        JsonNode evalLine = lines.get(lines.size() - 1);
        assertEquals(r.evalMetrics().get("loss"), evalLine.get("eval_loss").asDouble(), 1e-9);
        JsonNode m = Fixtures.json(out.resolve(DpoRecipe.EVAL_METRICS));
        assertEquals(16, m.get("step").asInt());
        DecoderLM.load(out, ai.djl.ndarray.NDManager.newBaseManager()).close(); // the final model loads again
    }

    /** Stopping after step 2 and resuming gives bit for bit the run that went through. */
    @Test
    void resumeIsExact() {
        String[] common = {"max_steps=4", "lr_scheduler_type=constant", "save_steps=2", "batch_size=3",
            "gradient_accumulation_steps=2"};
        Path whole = tmp.resolve("whole");
        DpoRecipe.run(DpoRecipe.config(null, trainConfig(whole, common)));
        Path cut = tmp.resolve("cut");
        List<String> first = trainConfig(cut, common);
        first.add("max_steps=2");
        DpoRecipe.run(DpoRecipe.config(null, first));
        List<String> second = trainConfig(cut, common);
        second.add("resume_from_checkpoint=latest");
        DpoRecipe.run(DpoRecipe.config(null, second));
        List<JsonNode> a = Metrics.read(whole.resolve(Metrics.FILE));
        List<JsonNode> b = Metrics.read(cut.resolve(Metrics.FILE));
        assertEquals(4, a.size());
        assertEquals(4, b.size());
        for (int i = 0; i < 4; i++) {
            assertEquals(a.get(i).get("loss").asDouble(), b.get(i).get("loss").asDouble(), 0.0, "step " + (i + 1));
            assertEquals(a.get(i).get("grad_norm").asDouble(), b.get(i).get("grad_norm").asDouble(), 0.0);
            assertEquals(a.get(i).get("rewards/margins").asDouble(), b.get(i).get("rewards/margins").asDouble(), 0.0);
        }
        try (var m = ai.djl.ndarray.NDManager.newBaseManager();
                DecoderLM x = DecoderLM.load(whole, m);
                DecoderLM y = DecoderLM.load(cut, m)) {
            for (DecoderLM.Param p : x.parameters()) {
                assertArrayEquals(p.value().toFloatArray(), y.parameter(p.name()).value().toFloatArray(), p.name());
            }
        }
    }
}
