package dev.align.rm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import dev.align.core.train.Metrics;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.config.Configs;
import dev.align.core.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo step on a stand-in: llama_gqa (the bundled world's tiny model does not exist in the fixtures)
 * learns synthetic K = 4 rankings in its own vocabulary ({@link Synthetic}: the rank is given by a marker
 * word) from 200 training prompts and is tested on 60 held-out ones. configs/rm-tiny.yaml and
 * {@link RmDemo#TINY} are the same settings.
 */
class RmDemoTest {
    @TempDir
    Path tmp;

    @Test
    void learnsHeldOutRankings() {
        Path train = Synthetic.rankings(tmp.resolve("train.jsonl"), 200, 11);
        Path test = Synthetic.rankings(tmp.resolve("test.jsonl"), 60, 12);
        // the bundled run uses half an epoch of 1,096 prompts (69 steps); 200 prompts need 3 epochs for as many
        RmRecipe.Result r = RmDemo.train(Fixtures.reference("llama_gqa"), train, test, tmp.resolve("rm"),
                List.of("epochs=3", "cache=false", "progress=false"));
        assertEquals(75, r.steps());
        assertEquals(360, r.evalMetrics().get("pairs"));
        assertTrue(r.accuracy() >= 0.95, "held-out pairwise accuracy " + r.accuracy());
        assertTrue(Math.abs(r.evalMetrics().get("mean_reward")) < 1, "centering keeps rewards near 0: " + r.evalMetrics());
    }

    /**
     * The bundled run's plumbing (extraction, files, the held-out set), on llama_gqa whose vocabulary does not
     * cover the bundled words (so two steps and no claim about accuracy).
     */
    @Test
    void bundledRunEvaluatesTheHeldOutRankings() {
        RmRecipe.Result r = RmDemo.trainOnBundled(Fixtures.reference("llama_gqa"), tmp,
                List.of("max_steps=2", "cache=false", "progress=false"));
        assertEquals(2, r.steps());
        assertEquals(340, r.evalMetrics().get("prompts"));
        assertEquals(2040, r.evalMetrics().get("pairs"));
        assertTrue(Files.isRegularFile(tmp.resolve("rm").resolve(Metrics.EVAL_FILE)));
        assertTrue(Files.isRegularFile(tmp.resolve("data/rankings_train.jsonl")));
    }

    @Test
    void tinyConfigFileMatchesTheDemoSettings() {
        Path yaml = Fixtures.root().getParent().resolve("configs/rm-tiny.yaml");
        ObjectNode file = RmRecipe.config(yaml, List.of()).tree();
        ObjectNode demo = RmRecipe.config(null, RmDemo.TINY).tree();
        for (String pathKey : new String[] {"model", "output_dir", "train_file", "eval_file"}) {
            assertTrue(file.get(pathKey).isTextual(), pathKey + " is set in the file");
            file.remove(pathKey);
            demo.remove(pathKey);
        }
        assertEquals(Configs.toYaml(demo), Configs.toYaml(file));
    }
}
