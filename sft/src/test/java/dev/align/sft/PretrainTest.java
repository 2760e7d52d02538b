package dev.align.sft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.align.core.BadInputException;
import dev.align.core.Engines;
import dev.align.core.model.DecoderLM;
import dev.align.core.testing.Fixtures;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.core.train.Metrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code align pretrain}'s recipe: from a config.json alone (random initialisation from the seed), the loss
 * on every token, packed rows; the result is a loadable Hugging Face model.
 */
class PretrainTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private Path configOnly;
    private Path text;

    @BeforeEach
    void setUp() throws Exception {
        configOnly = Files.createDirectories(tmp.resolve("config-only"));
        Files.copy(Fixtures.reference("llama_gqa/config.json"), configOnly.resolve("config.json"));
        text = tmp.resolve("text.jsonl");
        StringBuilder sb = new StringBuilder();
        for (JsonNode r : Fixtures.jsonl(Fixtures.reference("data/sft.jsonl"))) {
            String t = r.get("prompt").asText() + r.get("completion").asText();
            sb.append(JSON.createObjectNode().put("text", t)).append('\n');
        }
        Files.writeString(text, sb.toString());
    }

    private List<String> keys(Path out, String... more) {
        List<String> k = new ArrayList<>(List.of("model=" + configOnly, "tokenizer=" + Fixtures.reference("llama_gqa"),
                "output_dir=" + out, "max_length=48", "progress=false", "cache=false"));
        k.addAll(List.of(more));
        return k;
    }

    private static SftRecipe.Result run(SftRecipe.Mode mode, List<String> keys) {
        return SftRecipe.run(mode, SftRecipe.config(mode, null, keys), s -> { });
    }

    @Test
    void randomInitIsSeededAndEveryTokenTakesLoss() {
        double a = run(SftRecipe.Mode.PRETRAIN, keys(tmp.resolve("a"), "eval_file=" + text, "eval_only=true", "seed=5"))
                .evalMetrics().get("loss");
        double b = run(SftRecipe.Mode.PRETRAIN, keys(tmp.resolve("b"), "eval_file=" + text, "eval_only=true", "seed=5"))
                .evalMetrics().get("loss");
        double c = run(SftRecipe.Mode.PRETRAIN, keys(tmp.resolve("c"), "eval_file=" + text, "eval_only=true", "seed=6"))
                .evalMetrics().get("loss");
        assertEquals(a, b, 0, "same seed, same initialisation");
        assertNotEquals(a, c, "another seed, another initialisation");
        assertEquals(Math.log(512), a, 0.05, "a fresh model is near uniform over 512 tokens");
        // every token but the first of each example takes loss: sequence length − 1, max_length 48
        JsonNode m = Fixtures.json(tmp.resolve("a").resolve(SftRecipe.EVAL_METRICS));
        long expected = 0;
        try (Tokenizer tok = Tokenizer.load(Fixtures.reference("llama_gqa"))) {
            for (JsonNode r : Fixtures.jsonl(text)) {
                int n = tok.encode(r.get("text").asText() + "</s>").length; // <s> text </s>
                expected += Math.min(48, n) - 1; // truncated to max_length; the first token predicts nothing
            }
        }
        assertEquals(expected, m.get("num_tokens").asLong());
    }

    @Test
    void pretrainsFromConfigAlone() throws Exception {
        Path out = tmp.resolve("run");
        SftRecipe.Result r = run(SftRecipe.Mode.PRETRAIN, keys(out, "train_file=" + text, "batch_size=4",
                "learning_rate=3e-3", "max_steps=12", "logging_steps=1", "save_steps=100"));
        assertEquals(12, r.steps());
        List<JsonNode> lines = Metrics.read(out.resolve(Metrics.FILE));
        double first = lines.get(0).get("loss").asDouble();
        double last = lines.get(lines.size() - 1).get("loss").asDouble();
        assertTrue(last < first - 0.5, "loss " + first + " -> " + last);
        try (NDManager root = Engines.newManager(); DecoderLM m = DecoderLM.load(out, root)) {
            assertEquals(512, m.config().vocabSize());
        }
        assertTrue(Files.isRegularFile(out.resolve("tokenizer.json")), "tokenizer files next to the model");
        assertEquals("pretrain", Fixtures.json(out.resolve("provenance.json")).get("recipe").asText());
    }

    @Test
    void sftNeedsWeights() {
        BadInputException e = assertThrows(BadInputException.class, () -> run(SftRecipe.Mode.SFT,
                keys(tmp.resolve("x"), "train_file=" + Fixtures.reference("data/sft.jsonl"))));
        assertTrue(e.getMessage().contains("no weights"), e.getMessage());
    }
}
