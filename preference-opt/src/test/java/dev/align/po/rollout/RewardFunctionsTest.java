package dev.align.po.rollout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.BadInputException;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.DataSettings;
import dev.align.datasets.Datasets;
import dev.align.datasets.TokenizedDataset;
import dev.align.po.testing.RlFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The built-in reward functions, user classes by name, weights, and the checks before a run. */
class RewardFunctionsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A class with no no-argument constructor. */
    public static final class NeedsArgs implements RewardFunction {
        public NeedsArgs(String x) {}

        @Override
        public float[] score(RewardBatch batch) {
            return new float[batch.size()];
        }
    }

    static RewardBatch batch(List<String> completions, String... answers) {
        List<ObjectNode> x = new ArrayList<>();
        List<String> p = new ArrayList<>();
        int[] lens = new int[completions.size()];
        for (int i = 0; i < completions.size(); i++) {
            ObjectNode n = JSON.createObjectNode();
            if (i < answers.length && answers[i] != null) {
                n.put("answer", answers[i]);
            }
            x.add(n);
            p.add("Q" + i);
            lens[i] = completions.get(i).split(" ").length;
        }
        return new RewardBatch(p, completions, lens, x);
    }

    @Test
    void exactMatchTakesTheLastNumber() {
        RewardBatch b = batch(List.of(" 3 plus 5 is 8.", " 8 plus 1 is 9", " It is 8.0", " eight", " 2 minus 10 is -8",
                " 18", " 8 and then 7", " 08"), "8", "8", "8", "8", "-8", "8", "8", " 8 ");
        assertArrayEquals(new float[] {1, 0, 1, 0, 1, 0, 0, 1}, new ExactMatch().score(b));
        assertFalse(ExactMatch.matches("8", null));
        assertFalse(ExactMatch.matches("8", "eight"));
        assertEquals("7", ExactMatch.lastNumber("8 and 7."));
        assertEquals(List.of("answer"), new ExactMatch().requiredFields());
    }

    @Test
    void regexAndLengthPenalty() {
        RewardBatch b = batch(List.of(" The answer is 4.", "no", " answer: yes"));
        assertArrayEquals(new float[] {0.5f, 0, 0.5f}, new RegexReward("answer", 0.5).score(b));
        assertArrayEquals(new float[] {0, 0, 0}, new RegexReward("^answer", 1).score(b));
        BadInputException bad = assertThrows(BadInputException.class, () -> new RegexReward("(", 1));
        assertTrue(bad.getMessage().startsWith("regex_pattern: not a valid regular expression"), bad.getMessage());
        // DAPO: L_max 10, L_cache 4 → free up to 6, then (6 − L)/4, −1 past 10
        LengthPenalty lp = new LengthPenalty(10, 4);
        assertEquals(0f, lp.penalty(6));
        assertEquals(-0.25f, lp.penalty(7));
        assertEquals(-1f, lp.penalty(10));
        assertEquals(-1f, lp.penalty(11));
        assertArrayEquals(new float[] {0, 0, 0}, lp.score(b)); // 4, 1, 3 tokens
    }

    @Test
    void namesWeightsAndUserClasses() {
        RewardArgs a = RewardArgs.defaults().withRewardFuncs(List.of("exact_match", "length_penalty",
                "dev.align.po.testing.EndsWithA", "exact_match"));
        List<RewardFunctions.Named> fs = RewardFunctions.create(a, 20);
        assertEquals(List.of("exact_match", "length_penalty", "EndsWithA", "exact_match_2"),
                fs.stream().map(RewardFunctions.Named::name).toList());
        assertEquals(-0.5f, ((LengthPenalty) fs.get(1).function()).penalty(18)); // L_max 20, L_cache 4
        RewardArgs w = new RewardArgs(List.of("exact_match", "dev.align.po.testing.EndsWithA"), List.of(2.0, -1.0), null,
                1.0, null, 1.0, null, null, 0.25);
        Rewarder r = Rewarder.load(RewardFunctions.create(w.validate(), 8), w, 4, null);
        RewardBatch b = batch(List.of(" ba 8", " be 7"), "8", "8");
        Rewarder.Scores s = r.score(b, new boolean[] {true, false});
        // 2·1 − 1·(1/2) = 1.5; 2·0 − 1·0 − 0.25 (no eos) = −0.25
        assertArrayEquals(new float[] {1.5f, -0.25f}, s.total(), 1e-6f);
        assertEquals(0.5, s.partMeans().get("rewards/exact_match/mean"), 1e-9);
        assertEquals(0.25, s.partMeans().get("rewards/EndsWithA/mean"), 1e-9);
    }

    @Test
    void badNamesAndArgumentsAreClearErrors() {
        String missing = message(() -> RewardFunctions.load("com.example.Nope"));
        assertTrue(missing.contains("'com.example.Nope' is neither a built-in reward function (exact_match, regex,"
                + " length_penalty) nor a class on the class path"), missing);
        assertTrue(message(() -> RewardFunctions.load("java.lang.String"))
                .contains("class java.lang.String does not implement dev.align.po.rollout.RewardFunction"));
        assertTrue(message(() -> RewardFunctions.load(NeedsArgs.class.getName()))
                .contains("has no public no-argument constructor"));
        assertTrue(message(() -> RewardFunctions.create(RewardArgs.defaults().withRewardFuncs(List.of("regex")), 8))
                .startsWith("regex_pattern: required"));
        assertTrue(message(() -> RewardArgs.defaults().validate()).startsWith("reward_funcs: no reward"));
        assertTrue(message(() -> new RewardArgs(List.of("exact_match"), List.of(1.0, 2.0), null, 1, null, 1, null, null,
                null).validate()).startsWith("reward_weights: 2 weights for 1 reward functions"));
    }

    @Test
    void missingAnswerFieldsAreListedWithFileAndLine(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("p.jsonl");
        Files.write(f, List.of("{\"prompt\": \"bedu bika\", \"answer\": \"3\"}", "{\"prompt\": \"bika\"}",
                "{\"prompt\": \"bedu\", \"answer\": null}"));
        try (Tokenizer tok = Tokenizer.load(RlFixtures.policy());
                TokenizedDataset ds = Datasets.load(f, DataSettings.defaults().withCache(false, null), tok)) {
            List<RewardFunctions.Named> fs = RewardFunctions.create(RewardArgs.defaults()
                    .withRewardFuncs(List.of("exact_match")), 8);
            BadInputException e = assertThrows(BadInputException.class, () -> Rewarder.checkFields(fs, ds));
            assertEquals(List.of(f + ":2: answer: missing field (exact_match needs it)",
                    f + ":3: answer: missing field (exact_match needs it)"), e.problems());
        }
    }

    private static String message(Runnable r) {
        return assertThrows(BadInputException.class, r::run).getMessage();
    }
}
