package dev.align.po.ppo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.config.Configs;
import dev.align.core.testing.Fixtures;
import dev.align.po.testing.RlFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PPO demo step on a stand-in: llama_gqa against the rm_llama reward model raises its greedy held-out
 * reward-model score; the bundled run's plumbing; configs/ppo-tiny.yaml and {@link PpoDemo#TINY} are the
 * same settings.
 */
class PpoDemoTest {
    @TempDir
    Path tmp;

    @Test
    void raisesTheHeldOutScore() {
        Path train = RlFixtures.prompts(tmp.resolve("train.jsonl"), 32, 31);
        Path test = RlFixtures.prompts(tmp.resolve("test.jsonl"), 16, 32);
        PpoDemo.Result r = PpoDemo.train(RlFixtures.policy(), RlFixtures.rewardModel(), train, test, tmp.resolve("ppo"),
                List.of("response_length=8", "learning_rate=1e-3", "max_steps=20", "cache=false", "progress=false"));
        assertEquals(20, r.run().steps());
        System.out.println("PPO demo stand-in: greedy held-out score " + r.before() + " -> " + r.after());
        assertTrue(r.after() > r.before() + 0.05, "greedy held-out score " + r.before() + " -> " + r.after());
    }

    /** The bundled files and the held-out prompts read as prompt-only records, on llama_gqa (no claim about learning). */
    @Test
    void bundledRunEvaluatesTheHeldOutPrompts() {
        PpoDemo.Result r = PpoDemo.trainOnBundled(RlFixtures.policy(), RlFixtures.rewardModel(), tmp,
                List.of("max_steps=1", "response_length=4", "cache=false", "progress=false"));
        assertEquals(1, r.run().steps());
        assertEquals(340, r.run().evalMetrics().get("prompts"));
        assertTrue(Files.isRegularFile(tmp.resolve("ppo/value_model/model.safetensors")));
    }

    @Test
    void tinyConfigFileMatchesTheDemoSettings() {
        Path yaml = Fixtures.root().getParent().resolve("configs/ppo-tiny.yaml");
        ObjectNode file = PpoRecipe.config(yaml, List.of()).tree();
        ObjectNode demo = PpoRecipe.config(null, PpoDemo.TINY).tree();
        for (String pathKey : new String[] {"model", "output_dir", "train_file", "eval_file", "reward_model"}) {
            assertTrue(file.get(pathKey).isTextual(), pathKey + " is set in the file");
            file.remove(pathKey);
            demo.remove(pathKey);
        }
        assertEquals(Configs.toYaml(demo), Configs.toYaml(file));
    }
}
