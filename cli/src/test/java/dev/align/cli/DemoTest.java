package dev.align.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.Engines;
import dev.align.core.model.DecoderLM;
import dev.align.core.testing.Fixtures;
import dev.align.sft.SftRecipe;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code align demo}'s stages on the checked-in tiny base model (a few steps, a few questions). */
class DemoTest {
    @TempDir
    Path tmp;

    private static Path repo() {
        return Fixtures.root().getParent();
    }

    /** configs/sft-tiny.yaml and the demo's SFT stage resolve to the same keys (paths aside). */
    @Test
    void sftConfigFileMatchesTheDemo() {
        ObjectNode file = SftRecipe.config(SftRecipe.Mode.SFT, repo().resolve("configs/sft-tiny.yaml"), List.of()).tree();
        ObjectNode demo = SftRecipe.config(SftRecipe.Mode.SFT, null, Demo.SFT_KEYS).tree();
        assertEquals(Demo.DEFAULT_MODEL, file.get("model").asText());
        for (String path : List.of("model", "train_file", "eval_file", "output_dir")) {
            file.remove(path);
            demo.remove(path);
        }
        assertEquals(demo, file);
    }

    @Test
    void sftStageRunsAndReports() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream log = new PrintStream(buf, true, StandardCharsets.UTF_8);
        Path out = tmp.resolve("demo");
        Demo demo = new Demo(out, repo().resolve("models/tiny-base"), log, List.of("max_steps=2", "cache=false"), 6);
        Demo.SftStage s = demo.sft(demo.data());
        String text = buf.toString(StandardCharsets.UTF_8);
        assertEquals(2, s.steps());
        assertEquals(6, s.before().answers().size());
        assertEquals(6, s.after().answers().size());
        assertTrue(text.contains("base model exact match on qa_test: " + s.before().correct() + "/6 ("), text);
        assertTrue(text.contains("after SFT  exact match on qa_test: " + s.after().correct() + "/6 ("), text);
        assertTrue(text.contains("animal facts ") && text.contains("arithmetic "), text);
        assertTrue(text.contains("expected: The chal lives in the garden."), text);
        try (NDManager root = Engines.newManager(); DecoderLM m = DecoderLM.load(s.model(), root)) {
            assertEquals(4, m.config().layers());
        }
        assertTrue(Files.isRegularFile(out.resolve("data/qa_test.jsonl")));
        List<JsonNode> answers = Fixtures.jsonl(out.resolve("sft").resolve(Demo.ANSWERS));
        assertEquals(6, answers.size());
        assertEquals(s.after().answers().get(0).generated(), answers.get(0).get("after").asText());
        assertEquals(s.before().correct(), answers.stream().filter(a -> a.get("before_correct").asBoolean()).count());
    }

    /** Every later stage runs on the SFT stage's output and reports its number (2 steps each). */
    @Test
    void laterStagesRunAndReport() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream log = new PrintStream(buf, true, StandardCharsets.UTF_8);
        Path out = tmp.resolve("demo-all");
        Demo demo = new Demo(out, repo().resolve("models/tiny-base"), log, List.of("max_steps=2", "cache=false"), 6);
        Path data = demo.data();
        Demo.SftStage s = demo.sft(data);
        Path rm = demo.rewardModel(data, s.model());
        demo.dpo(s.model(), rm);
        demo.grpo(s.model());
        demo.ppo(s.model(), rm);
        String text = buf.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("held-out pairwise accuracy on rankings_test: "), text);
        assertTrue(text.contains("held-out rewards/accuracies: "), text);
        assertTrue(text.contains("win-rate of DPO over SFT on 6 held-out prompts, judged by the reward model: "), text);
        assertTrue(text.contains("mean held-out reward (share of sums answered right, greedy): "), text);
        assertTrue(text.contains("mean reward-model score of held-out greedy answers: "), text);
        for (String dir : new String[] {"rm", "dpo", "grpo", "ppo"}) {
            assertTrue(Files.isRegularFile(out.resolve(dir).resolve("config.json")), dir + " model written");
        }
    }
}
