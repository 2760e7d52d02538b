package dev.align.sft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.testing.Fixtures;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code eval_only} against the independent reference ({@code testdata/reference/expected/sft_loss_*.json}):
 * token-mean cross-entropy over every completion token of {@code sft.jsonl} (eos appended, prompt
 * masked) and the argmax accuracy, for three model families, with batches of 1 (no padding) and 8
 * (padding, rows of different lengths): to 1e-4.
 */
class SftEvalTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @CsvSource({"llama_gqa,1", "llama_gqa,8", "qwen2_tied_bf16,8", "gpt2,1", "gpt2,8"})
    void evalOnlyMatchesReference(String ckpt, int batch) {
        JsonNode expected = Fixtures.json(Fixtures.reference("expected/sft_loss_" + ckpt + ".json"));
        Path out = tmp.resolve(ckpt + "-" + batch);
        SftRecipe.Result r = SftRecipe.run(SftRecipe.Mode.SFT, SftRecipe.config(SftRecipe.Mode.SFT, null, List.of(
                "model=" + Fixtures.reference(ckpt), "eval_file=" + Fixtures.reference("data/sft.jsonl"),
                "output_dir=" + out, "eval_only=true", "eval_batch_size=" + batch, "cache=false")), s -> { });
        Map<String, Double> m = r.evalMetrics();
        assertEquals(expected.get("loss").asDouble(), m.get("loss"), 1e-4, "loss");
        assertEquals(expected.get("mean_token_accuracy").asDouble(), m.get("mean_token_accuracy"), 1e-4, "accuracy");
        assertEquals(Math.exp(m.get("loss")), m.get("perplexity"), 1e-9);
        JsonNode written = Fixtures.json(out.resolve(SftRecipe.EVAL_METRICS));
        assertEquals(m.get("loss"), written.get("loss").asDouble(), 0);
        assertEquals(expected.get("n_tokens").asLong(), written.get("num_tokens").asLong(), "completion tokens");
        assertEquals(expected.get("n_examples").asInt(), written.get("num_examples").asInt());
        assertEquals(0, r.steps());
        assertTrue(out.resolve("config.yaml").toFile().isFile());
        assertTrue(out.resolve("provenance.json").toFile().isFile());
    }
}
