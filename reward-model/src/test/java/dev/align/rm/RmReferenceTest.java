package dev.align.rm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import dev.align.core.train.Metrics;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.BadInputException;
import dev.align.core.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reward model against reference outputs of rm_llama on testdata/reference/data/pref.jsonl:
 * expected/rm_loss.json (32 pairs, an independent PyTorch implementation) through the scoring API, and
 * {@code eval_only} through the recipe against transformers' numbers on the 31 pairs left when the
 * record whose chosen equals its rejected (line 5) is skipped (src/test/resources/reference/rm_eval.json,
 * made by make_rm_eval.py next to it, which also checks its 32-pair numbers against rm_loss.json).
 */
class RmReferenceTest {
    private static final String[] KEYS = {"loss", "accuracy", "margin", "mean_reward", "min_reward", "max_reward",
        "rewards/chosen", "rewards/rejected"};

    @TempDir
    Path tmp;

    private static JsonNode reference() {
        return Fixtures.json(Path.of(System.getProperty("align.testdata")).getParent()
                .resolve("reward-model/src/test/resources/reference/rm_eval.json"));
    }

    private List<String> evalOnly(Path out, String... more) {
        List<String> o = new ArrayList<>(List.of("model=" + Fixtures.reference("rm_llama"), "output_dir=" + out,
                "eval_file=" + Fixtures.reference("data/pref.jsonl"), "eval_only=true", "eval_batch_size=5",
                "cache=false"));
        o.addAll(List.of(more));
        return o;
    }

    @Test
    void scorerReproducesRmLossFixture() {
        JsonNode expected = Fixtures.json(Fixtures.reference("expected/rm_loss.json"));
        List<JsonNode> pairs = Fixtures.jsonl(Fixtures.reference("data/pref.jsonl"));
        List<String> prompts = new ArrayList<>();
        List<String> completions = new ArrayList<>();
        for (JsonNode p : pairs) {
            for (String side : new String[] {"chosen", "rejected"}) {
                prompts.add(p.get("prompt").asText());
                completions.add(p.get(side).asText());
            }
        }
        float[] r;
        float[] one;
        try (RewardScorer s = RewardScorer.load(Fixtures.reference("rm_llama"), 7)) {
            r = s.score(prompts, completions);
            one = new float[r.length];
            for (int i = 0; i < r.length; i++) {
                one[i] = s.score(prompts.get(i), completions.get(i));
            }
        }
        assertArrayEquals(one, r, 1e-5f, "batched (sorted by length, padded) = one at a time, in input order");
        int n = pairs.size();
        double loss = 0;
        double acc = 0;
        double margin = 0;
        double chosen = 0;
        double rejected = 0;
        for (int i = 0; i < n; i++) {
            double d = r[2 * i] - r[2 * i + 1];
            loss += RewardStats.softplus(-d);
            // accuracy from the unbatched rewards: record 5 is an exact tie (chosen == rejected), which only
            // identical computations keep exactly equal (batched, its two sides may land in batches padded
            // to different lengths and differ by float rounding)
            acc += one[2 * i] > one[2 * i + 1] ? 1 : 0;
            margin += d;
            chosen += r[2 * i];
            rejected += r[2 * i + 1];
        }
        assertEquals(32, expected.get("n_pairs").asInt());
        assertEquals(expected.get("loss").asDouble(), loss / n, 1e-4);
        assertEquals(expected.get("accuracy").asDouble(), acc / n, 1e-9);
        assertEquals(expected.get("margin").asDouble(), margin / n, 1e-4);
        assertEquals(expected.get("rewards/chosen").asDouble(), chosen / n, 1e-4);
        assertEquals(expected.get("rewards/rejected").asDouble(), rejected / n, 1e-4);
    }

    @Test
    void evalOnlyRefusesTheBadRecordByDefault() {
        BadInputException e = assertThrows(BadInputException.class,
                () -> RmRecipe.run(RmRecipe.config(null, evalOnly(tmp.resolve("out")))));
        assertTrue(e.problems().stream().anyMatch(p -> p.endsWith("pref.jsonl:5: rejected: same as chosen")),
                String.join("\n", e.problems()));
    }

    @Test
    void evalOnlyMatchesTransformersOnTheGoodPairs() {
        JsonNode ref = reference().get("skip_bad_31");
        Path out = tmp.resolve("eval");
        RmRecipe.Result res = RmRecipe.run(RmRecipe.config(null, evalOnly(out, "skip_bad_records=true")));
        JsonNode got = Metrics.readEvalFile(out);
        for (String k : KEYS) {
            assertEquals(ref.get(k).asDouble(), got.get(k).asDouble(), 1e-4, k);
            assertEquals(got.get(k).asDouble(), res.evalMetrics().get(k), 1e-12, k);
        }
        assertEquals(31, got.get("pairs").asInt());
        assertTrue(Files.isRegularFile(out.resolve("config.yaml")));
        assertEquals(0, res.steps());

        Path centered = tmp.resolve("centered");
        RmRecipe.run(RmRecipe.config(null, evalOnly(centered, "skip_bad_records=true", "center_rewards_coefficient=0.01")));
        assertEquals(ref.get("loss_center_0.01").asDouble(), Metrics.readEvalFile(centered).get("loss").asDouble(), 1e-4);
    }
}
