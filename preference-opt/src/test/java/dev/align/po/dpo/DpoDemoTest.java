package dev.align.po.dpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.align.core.Engines;
import dev.align.core.bench.TrainBench;
import dev.align.core.config.Configs;
import dev.align.core.model.DecoderLM;
import dev.align.core.testing.Fixtures;
import dev.align.datasets.bundled.Bundled;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's DPO step on the bundled preferences, with a small random model standing in for the SFT model. */
class DpoDemoTest {
    @TempDir
    Path tmp;

    /** A random llama (hidden 64, 2 layers) with the bundled tokenizer. */
    static Path tinyModel(Path dir) throws IOException {
        try (NDManager root = Engines.newManager();
                DecoderLM m = DecoderLM.init(TrainBench.benchConfig(64, 2, 4, 4, 128, 495), 7, root)) {
            m.save(dir);
        }
        Files.write(dir.resolve("tokenizer.json"), Bundled.read("tokenizer.json"));
        Files.write(dir.resolve("tokenizer_config.json"), Bundled.read("tokenizer_config.json"));
        return dir;
    }

    /**
     * The bundled pairs teach a preference that carries over to held-out questions (polite, correct and
     * helpful over curt, evasive or rude): a short run lifts the held-out reward accuracy far above chance.
     */
    @Test
    void dpoOnTheBundledPreferencesGeneralisesToHeldOutPairs() throws IOException {
        Path model = tinyModel(tmp.resolve("sft"));
        DpoDemo.Result r = DpoDemo.run(model, tmp.resolve("work"), List.of("max_steps=25", "learning_rate=2e-3",
                "cache_dir=" + tmp.resolve("cache"), "progress=false"));
        assertTrue(Files.isRegularFile(r.modelDir().resolve("model.safetensors")));
        assertEquals(340, Fixtures.json(r.modelDir().resolve(DpoRecipe.EVAL_METRICS)).get("n_pairs").asInt());
        assertTrue(r.heldOutAccuracy() > 0.8, "held-out " + r.heldOut());
        assertTrue(r.heldOut().get("rewards/margins") > 0, "held-out " + r.heldOut());
        String report = DpoDemo.report(r, new WinRate.Result(8, 1, 1, 0.5, 0.1));
        assertTrue(report.contains("win-rate on 10 held-out prompts (judged by the reward model): 0.850"), report);
    }

    @Test
    void heldOutPromptsAreTheTestPairsPrompts() {
        List<String> p = DpoDemo.heldOutPrompts(3);
        assertEquals(3, p.size());
        assertEquals("Question: Where does the chal live?\nAnswer:", p.get(0));
        assertEquals(340, DpoDemo.heldOutPrompts(0).size());
    }

    /** configs/dpo-tiny.yaml and the demo's settings are the same keys and values. */
    @Test
    void tinyConfigMatchesTheDemoSettings() {
        Path yaml = Fixtures.root().getParent().resolve("configs/dpo-tiny.yaml");
        List<String> fill = List.of("model=m", "train_file=t", "output_dir=o");
        Configs.Resolved fromFile = DpoRecipe.config(yaml, fill);
        List<String> demo = new ArrayList<>(DpoDemo.SETTINGS);
        demo.addAll(fill);
        Configs.Resolved fromDemo = DpoRecipe.config(null, demo);
        Map<String, Object> a = new java.util.TreeMap<>();
        Map<String, Object> b = new java.util.TreeMap<>();
        fromFile.tree().properties().forEach(e -> a.put(e.getKey(), e.getValue()));
        fromDemo.tree().properties().forEach(e -> b.put(e.getKey(), e.getValue()));
        a.remove("eval_file");
        b.remove("eval_file");
        assertEquals(b, a);
        fromFile.get(DpoArgs.class).validate();
    }
}
