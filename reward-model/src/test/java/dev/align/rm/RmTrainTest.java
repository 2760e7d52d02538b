package dev.align.rm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.Engines;
import dev.align.core.io.SafeTensors;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.ModelConfig;
import dev.align.core.testing.Fixtures;
import dev.align.core.train.Metrics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code align rm} end to end on llama_gqa (a causal LM: the head starts fresh) with K = 4 rankings: the
 * output directory (an HF reward model that loads again, metrics, config, provenance, checkpoints,
 * eval_metrics.json) and an exact resume from a checkpoint.
 */
class RmTrainTest {
    @TempDir
    Path tmp;

    static List<String> common(Path tmp, Path out, String... more) {
        Path train = tmp.resolve("train.jsonl");
        Path eval = tmp.resolve("eval.jsonl");
        if (!Files.exists(train)) {
            Synthetic.rankings(train, 12, 1);
            Synthetic.rankings(eval, 6, 2);
        }
        List<String> o = new ArrayList<>(List.of("model=" + Fixtures.reference("llama_gqa"), "train_file=" + train,
                "eval_file=" + eval, "output_dir=" + out, "batch_size=2", "gradient_accumulation_steps=2",
                "max_steps=4", "save_steps=2", "logging_steps=1", "learning_rate=1e-3", "warmup_steps=1",
                "cache=false", "progress=false", "seed=3"));
        o.addAll(List.of(more));
        return o;
    }

    static float[] weights(Path file, String name) {
        try (NDManager m = Engines.newManager(); SafeTensors.Reader r = SafeTensors.open(file)) {
            return r.read(name, m).toFloatArray();
        }
    }

    static void copyDir(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

    @Test
    void trainsAndWritesARewardModel() {
        Path out = tmp.resolve("run");
        RmRecipe.Result res = RmRecipe.run(RmRecipe.config(null, common(tmp, out)));
        assertEquals(4, res.steps());
        // an HF reward model: transformers' layout, loads again with its head
        JsonNode cfg = Fixtures.json(out.resolve("config.json"));
        assertEquals("LlamaForSequenceClassification", cfg.get("architectures").get(0).asText());
        assertEquals(1, cfg.get("id2label").size());
        assertEquals(1, cfg.get("pad_token_id").asInt());
        try (SafeTensors.Reader r = SafeTensors.open(out.resolve("model.safetensors"))) {
            assertArrayEquals(new long[] {1, 64}, r.entry("score.weight").shape());
            assertFalse(r.entries().containsKey("lm_head.weight"));
        }
        try (NDManager root = Engines.newManager(); DecoderLM m = DecoderLM.load(out, root)) {
            assertEquals(ModelConfig.Head.SEQUENCE_CLASSIFICATION, m.config().head());
        }
        for (String f : new String[] {"tokenizer.json", "tokenizer_config.json", "config.yaml", "provenance.json",
            "checkpoint-2/model.safetensors", "checkpoint-4/training_state/trainer_state.json", Metrics.EVAL_FILE}) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        List<JsonNode> lines = Metrics.read(out.resolve(Metrics.FILE));
        for (int s = 1; s <= 4; s++) {
            JsonNode l = lines.get(s - 1);
            assertEquals(s, l.get("step").asInt());
            for (String k : new String[] {"loss", "accuracy", "margin", "mean_reward", "min_reward", "max_reward",
                "grad_norm", "learning_rate"}) {
                assertTrue(l.get(k).isNumber(), k + " at step " + s);
            }
            assertTrue(l.get("min_reward").asDouble() <= l.get("mean_reward").asDouble());
            assertTrue(l.get("mean_reward").asDouble() <= l.get("max_reward").asDouble());
        }
        JsonNode evalLine = lines.get(lines.size() - 1);
        JsonNode eval = Metrics.readEvalFile(out);
        assertEquals(eval.get("loss").asDouble(), evalLine.get("eval_loss").asDouble(), 1e-12);
        assertEquals(36, eval.get("pairs").asInt()); // 6 prompts × C(4, 2)
        assertEquals(6, eval.get("prompts").asInt());

        // the saved model reproduces the recipe's evaluation through the scoring API
        List<JsonNode> recs = Fixtures.jsonl(tmp.resolve("eval.jsonl"));
        List<String> prompts = new ArrayList<>();
        List<String> completions = new ArrayList<>();
        for (JsonNode r : recs) {
            r.get("responses").forEach(c -> {
                prompts.add(r.get("prompt").asText());
                completions.add(c.asText());
            });
        }
        float[] rewards;
        try (RewardScorer s = RewardScorer.load(out)) {
            rewards = s.score(prompts, completions);
        }
        double sum = 0;
        for (float x : rewards) {
            sum += x;
        }
        assertEquals(eval.get("mean_reward").asDouble(), sum / rewards.length, 1e-5);
        double correct = 0;
        int pairs = 0;
        for (int g = 0; g < recs.size(); g++) {
            JsonNode rank = recs.get(g).get("ranking");
            for (int i = 0; i < 4; i++) {
                for (int j = 0; j < 4; j++) {
                    if (rank.get(i).asInt() < rank.get(j).asInt()) {
                        pairs++;
                        correct += rewards[4 * g + i] > rewards[4 * g + j] ? 1 : 0;
                    }
                }
            }
        }
        assertEquals(eval.get("accuracy").asDouble(), correct / pairs, 1e-12);
    }

    @Test
    void resumesExactly() throws IOException {
        Path full = tmp.resolve("full");
        RmRecipe.run(RmRecipe.config(null, common(tmp, full)));
        Path cut = tmp.resolve("cut");
        copyDir(full.resolve("checkpoint-2"), cut.resolve("checkpoint-2"));
        Files.copy(full.resolve(Metrics.FILE), cut.resolve(Metrics.FILE));
        RmRecipe.run(RmRecipe.config(null, common(tmp, cut, "resume_from_checkpoint=latest")));
        for (String name : new String[] {"score.weight", "model.layers.1.mlp.down_proj.weight", "model.embed_tokens.weight"}) {
            assertArrayEquals(weights(full.resolve("model.safetensors"), name), weights(cut.resolve("model.safetensors"), name),
                    name + " after resuming at step 2");
        }
        List<JsonNode> a = Metrics.read(full.resolve(Metrics.FILE));
        List<JsonNode> b = Metrics.read(cut.resolve(Metrics.FILE));
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            for (String k : new String[] {"loss", "grad_norm", "eval_loss", "accuracy"}) {
                assertEquals(a.get(i).path(k).asDouble(), b.get(i).path(k).asDouble(), 0.0, k + " line " + i);
            }
        }
        assertTrue(Arrays.equals(Files.readAllBytes(full.resolve(Metrics.EVAL_FILE)),
                Files.readAllBytes(cut.resolve(Metrics.EVAL_FILE))));
    }
}
