package dev.align.sft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.Engines;
import dev.align.core.data.TokenBatch;
import dev.align.core.io.SafeTensors;
import dev.align.core.lora.LoraAdapters;
import dev.align.core.model.DecoderLM;
import dev.align.core.scoring.LogProbs;
import dev.align.core.testing.Fixtures;
import dev.align.core.train.AdamW;
import dev.align.core.train.Checkpointer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA SFT on the llama fixture: the base stays frozen (no gradients, no optimizer state, every base
 * tensor of the merged model bit-identical to the fixture except the adapted projections), the output is
 * a PEFT adapter, and the merged model computes what base + adapter compute.
 */
class LoraSftTest {
    @TempDir
    Path tmp;

    private static final TokenBatch BATCH = TokenBatch.rightPadded(
            List.of(new long[] {2, 17, 33, 90, 41, 5, 3}, new long[] {2, 8, 9, 10, 3}), new int[] {3, 2}, 1);

    @Test
    void loraTrainsAdaptersOnlyAndMerges() throws Exception {
        Path base = Fixtures.reference("llama_gqa");
        Path out = tmp.resolve("lora");
        List<String> keys = List.of("model=" + base, "train_file=" + Fixtures.reference("data/sft.jsonl"),
                "output_dir=" + out, "lora_r=4", "lora_alpha=8", "lora_dropout=0.1", "lora_target_modules=[q_proj, v_proj]",
                "merge_lora=true", "learning_rate=1e-2", "batch_size=8", "max_steps=4", "save_steps=2",
                "logging_steps=1", "progress=false", "cache=false");
        try (SftRecipe r = SftRecipe.setup(SftRecipe.Mode.SFT, SftRecipe.config(SftRecipe.Mode.SFT, null, keys), s -> { })) {
            assertEquals(8, r.adapters().parameters().size(), "2 layers x 2 modules x (A, B)");
            r.train();
            for (DecoderLM.Param p : r.model().parameters()) {
                assertFalse(p.value().hasGradient(), p.name() + " got a gradient");
            }
        }

        // optimizer state only for the adapters
        Path ckpt = Checkpointer.latest(out).orElseThrow();
        assertEquals("checkpoint-4", ckpt.getFileName().toString());
        JsonNode opt = Fixtures.json(ckpt.resolve(Checkpointer.STATE_DIR).resolve(AdamW.META_FILE));
        List<String> names = new ArrayList<>();
        opt.findValues("name").forEach(n -> names.add(n.asText()));
        assertEquals(8, names.size(), names.toString());
        names.forEach(n -> assertTrue(n.contains(".lora_"), n));
        assertTrue(Files.isRegularFile(ckpt.resolve("adapter_model.safetensors")), "checkpoints are PEFT adapters");

        // PEFT files
        JsonNode cfg = Fixtures.json(out.resolve("adapter_config.json"));
        assertEquals("LORA", cfg.get("peft_type").asText());
        assertEquals(4, cfg.get("r").asInt());
        assertEquals(8.0, cfg.get("lora_alpha").asDouble());
        assertEquals("CAUSAL_LM", cfg.get("task_type").asText());
        assertEquals(new TreeSet<>(List.of("q_proj", "v_proj")), textSet(cfg.get("target_modules")));
        TreeSet<String> expectedKeys = new TreeSet<>();
        for (int l = 0; l < 2; l++) {
            for (String m : List.of("q_proj", "v_proj")) {
                for (String ab : List.of("lora_A", "lora_B")) {
                    expectedKeys.add("base_model.model.model.layers." + l + ".self_attn." + m + "." + ab + ".weight");
                }
            }
        }
        try (SafeTensors.Reader a = SafeTensors.open(out.resolve("adapter_model.safetensors"))) {
            assertEquals(expectedKeys, new TreeSet<>(a.entries().keySet()));
        }
        assertTrue(Files.isRegularFile(out.resolve("tokenizer.json")));

        // frozen base: every tensor of the merged model but the adapted projections is the fixture's, bit for bit
        Path merged = out.resolve(SftRecipe.MERGED);
        try (NDManager m = Engines.newManager();
                SafeTensors.Reader b = SafeTensors.open(base.resolve("model.safetensors"));
                SafeTensors.Reader g = SafeTensors.open(merged.resolve("model.safetensors"))) {
            assertEquals(b.entries().keySet(), g.entries().keySet());
            int changed = 0;
            for (String n : b.entries().keySet()) {
                float[] x = b.read(n, m).toFloatArray();
                float[] y = g.read(n, m).toFloatArray();
                if (n.endsWith("q_proj.weight") || n.endsWith("v_proj.weight")) {
                    assertFalse(java.util.Arrays.equals(x, y), n + " has the trained delta merged in");
                    changed++;
                } else {
                    assertArrayEquals(x, y, n + " is frozen");
                }
            }
            assertEquals(4, changed);
        }

        // merge equivalence: base + adapter == merged
        try (NDManager root = Engines.newManager();
                DecoderLM withAdapter = DecoderLM.load(base, root);
                DecoderLM full = DecoderLM.load(merged, root)) {
            try (LoraAdapters a = LoraAdapters.load(out, withAdapter)) {
                float[] x = logProbs(withAdapter, root);
                float[] y = logProbs(full, root);
                double d = 0;
                for (int i = 0; i < x.length; i++) {
                    d = Math.max(d, Math.abs(x[i] - y[i]));
                }
                assertTrue(d < 1e-5, "merged vs adapter log-probs differ by " + d);
                withAdapter.setAdapters(null);
                float[] z = logProbs(withAdapter, root);
                double moved = 0;
                for (int i = 0; i < x.length; i++) {
                    moved = Math.max(moved, Math.abs(x[i] - z[i]));
                }
                assertTrue(moved > 1e-4, "training moved the adapter (" + moved + ")");
            }
        }
    }

    private static float[] logProbs(DecoderLM m, NDManager root) {
        try (NDScope s = new NDScope()) {
            return LogProbs.forBatch(m, BATCH.toTensors(root, 0)).toFloatArray();
        }
    }

    private static TreeSet<String> textSet(JsonNode arr) {
        TreeSet<String> s = new TreeSet<>();
        arr.forEach(x -> s.add(x.asText()));
        return s;
    }
}
