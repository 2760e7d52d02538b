package dev.align.po.dpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.BadInputException;
import dev.align.core.testing.Fixtures;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole {@code eval_only} path — config, data loading and validation, tokenization, policy and
 * reference forwards, objectives, metrics, eval_metrics.json — on the reference policy/reference pair
 * (testdata/reference/dpo_policy, dpo_ref) and pref.jsonl.
 *
 * <p>pref.jsonl's line 5 has chosen == rejected, which data validation refuses; with
 * {@code skip_bad_records: true} the run uses the other 31 pairs. Their goldens ({@code dpo/eval_goldens.json})
 * come from transformers forwards + the objectives' formulas, cross-checked against TRL 1.13's
 * DPOTrainer.evaluate (sigmoid, ipo, hinge, robust) by {@code dpo/make_goldens.py}. The shared 32-pair
 * fixture (expected/dpo_*.json) is tied in exactly: the dropped pair has h = 0, so it adds a known loss
 * (log 2, 1, 1/(2β)²), a zero margin and no accuracy.
 */
class DpoEvalTest {
    @TempDir
    Path tmp;

    static JsonNode goldens() {
        try (InputStream in = DpoEvalTest.class.getResourceAsStream("/dpo/eval_goldens.json")) {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private List<String> evalConfig(JsonNode g, Path out, String... more) {
        List<String> o = new ArrayList<>(List.of(
                "model=" + Fixtures.reference("dpo_policy"),
                "eval_file=" + Fixtures.reference("data/pref.jsonl"),
                "output_dir=" + out,
                "eval_only=true",
                "eval_batch_size=8",
                "skip_bad_records=true",
                "cache_dir=" + tmp.resolve("cache"),
                "loss_type=" + g.get("loss_type").asText(),
                "beta=" + g.get("beta").asDouble(),
                "label_smoothing=" + g.get("label_smoothing").asDouble(),
                "simpo_gamma=" + g.get("simpo_gamma").asDouble()));
        if (!g.get("loss_type").asText().matches("simpo|orpo")) {
            o.add("ref_model=" + Fixtures.reference("dpo_ref"));
        }
        o.addAll(List.of(more));
        return o;
    }

    @ParameterizedTest
    @ValueSource(strings = {"sigmoid", "cdpo", "ipo", "hinge", "robust", "simpo", "orpo"})
    void evalOnlyMatchesGoldens(String name) {
        JsonNode g = goldens().get(name);
        Path out = tmp.resolve(name);
        DpoRecipe.Result r = DpoRecipe.run(DpoRecipe.config(null, evalConfig(g, out)));
        JsonNode m = Fixtures.json(out.resolve(DpoRecipe.EVAL_METRICS));
        assertEquals(31, m.get("n_pairs").asInt());
        for (String k : PairStats.NAMES) {
            double tol = k.startsWith("logits/") ? 1e-5 : 1e-4;
            assertEquals(g.get(k).asDouble(), m.get(k).asDouble(), tol, name + " " + k);
            assertEquals(m.get(k).asDouble(), r.evalMetrics().get(k), 1e-12, k);
        }
        assertTrue(Files.isRegularFile(out.resolve("config.yaml")));
        assertTrue(Files.isRegularFile(out.resolve("provenance.json")));
    }

    /** The 31-pair results plus the dropped h = 0 pair give the shared fixture's 32-pair numbers. */
    @ParameterizedTest
    @ValueSource(strings = {"sigmoid_ls0.0", "sigmoid_ls0.1", "ipo_ls0.0", "hinge_ls0.0", "robust_ls0.1"})
    void tiesToThe32PairFixture(String fixture) {
        JsonNode exp = Fixtures.json(Fixtures.reference("expected/dpo_" + fixture + ".json"));
        String type = exp.get("loss_type").asText();
        double eps = exp.get("label_smoothing").asDouble();
        JsonNode g = goldens().get(type.equals("sigmoid") && eps > 0 ? "cdpo" : type);
        Path out = tmp.resolve(fixture);
        DpoRecipe.run(DpoRecipe.config(null, evalConfig(g, out)));
        JsonNode m = Fixtures.json(out.resolve(DpoRecipe.EVAL_METRICS));
        double beta = 0.1;
        double identical = switch (type) {
            case "hinge" -> 1.0;
            case "ipo" -> 1 / Math.pow(2 * beta, 2);
            default -> Math.log(2); // sigmoid, cDPO and robust at h = 0
        };
        assertEquals(exp.get("loss").asDouble(), (31 * m.get("loss").asDouble() + identical) / 32, 1e-4, "loss");
        assertEquals(exp.get("rewards/margins").asDouble(), 31 * m.get("rewards/margins").asDouble() / 32, 1e-4);
        assertEquals(exp.get("rewards/accuracies").asDouble(), 31 * m.get("rewards/accuracies").asDouble() / 32, 1e-9);
    }

    @Test
    void precomputedReferenceGivesTheSameMetricsAndIsCached() throws IOException {
        JsonNode g = goldens().get("sigmoid");
        Path out = tmp.resolve("pre");
        DpoRecipe.Result r = DpoRecipe.run(DpoRecipe.config(null, evalConfig(g, out, "precompute_ref_log_probs=true")));
        for (String k : PairStats.NAMES) {
            assertEquals(g.get(k).asDouble(), r.evalMetrics().get(k), k.startsWith("logits/") ? 1e-5 : 1e-4, k);
        }
        List<Path> cached;
        try (var s = Files.list(tmp.resolve("cache"))) {
            cached = s.filter(p -> p.toString().endsWith(".reflogps.safetensors")).toList();
        }
        assertEquals(1, cached.size(), "one reference cache entry");
        long before = Files.getLastModifiedTime(cached.get(0)).toMillis();
        byte[] bytes = Files.readAllBytes(cached.get(0));
        DpoRecipe.Result again = DpoRecipe.run(DpoRecipe.config(null, evalConfig(g, tmp.resolve("pre2"),
                "precompute_ref_log_probs=true")));
        assertEquals(before, Files.getLastModifiedTime(cached.get(0)).toMillis(), "read from the cache, not rewritten");
        assertEquals(java.util.Arrays.toString(bytes), java.util.Arrays.toString(Files.readAllBytes(cached.get(0))));
        assertEquals(r.evalMetrics(), again.evalMetrics());
    }

    @Test
    void identicalPairIsABadRecordUnlessSkipped() {
        JsonNode g = goldens().get("sigmoid");
        List<String> cfg = evalConfig(g, tmp.resolve("bad"), "skip_bad_records=false");
        BadInputException e = assertThrows(BadInputException.class, () -> DpoRecipe.run(DpoRecipe.config(null, cfg)));
        String msg = String.join("\n", e.problems());
        assertTrue(msg.contains(Fixtures.reference("data/pref.jsonl") + ":5: rejected: same as chosen"), msg);
        assertTrue(!Files.exists(tmp.resolve("bad").resolve(DpoRecipe.EVAL_METRICS)));
    }
}
