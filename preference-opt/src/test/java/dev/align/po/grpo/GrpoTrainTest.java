package dev.align.po.grpo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.Engines;
import dev.align.core.io.SafeTensors;
import dev.align.core.model.DecoderLM;
import dev.align.core.train.Metrics;
import dev.align.core.train.TrainingState;
import dev.align.po.testing.RlFixtures;
import dev.align.po.testing.RlTesting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code align grpo} end to end on the llama_gqa fixture with a user reward class loaded by name: the output
 * directory (an HF model that loads again, metrics with GRPO's keys, config, provenance, checkpoints,
 * eval_metrics.json) and an exact resume — 2 steps, a checkpoint, 2 more steps from it equal 4 straight
 * steps bit for bit (rollout sampling, rewards, losses and weights).
 */
class GrpoTrainTest {
    @TempDir
    Path tmp;

    List<String> common(Path out, String... more) {
        Path train = RlFixtures.prompts(tmp.resolve("train.jsonl"), 12, 1);
        Path eval = RlFixtures.prompts(tmp.resolve("eval.jsonl"), 6, 2);
        List<String> o = new ArrayList<>(List.of("model=" + RlFixtures.policy(), "train_file=" + train,
                "eval_file=" + eval, "output_dir=" + out, "reward_funcs=[dev.align.po.testing.EndsWithA]",
                "num_generations=4", "batch_size=4", "gradient_accumulation_steps=2", "max_completion_length=6",
                "max_steps=4", "save_steps=2", "logging_steps=1", "learning_rate=1e-3", "warmup_steps=1",
                "cache=false", "progress=false", "seed=3", "beta=0.04", "temperature=1.2", "top_k=50"));
        o.addAll(List.of(more));
        return o;
    }

    @Test
    void trainsWritesAndResumesExactly() throws Exception {
        Path out = tmp.resolve("run");
        GrpoRecipe.Result res = GrpoRecipe.run(GrpoRecipe.config(null, common(out)));
        assertEquals(4, res.steps());
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "config.yaml", "provenance.json",
                "metrics.jsonl", Metrics.EVAL_FILE, "checkpoint-2/training_state/trainer_state.json",
                "checkpoint-4/model.safetensors")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        try (NDManager m = Engines.newManager(); DecoderLM again = DecoderLM.load(out, m)) {
            assertEquals(2, again.config().layers());
        }
        List<JsonNode> lines = Metrics.read(out.resolve("metrics.jsonl"));
        JsonNode first = lines.get(0);
        for (String k : List.of("loss", "reward", "reward_std", "frac_reward_zero_std", "kl", "clip_ratio/region_mean",
                "clip_ratio/low_mean", "clip_ratio/high_mean", "completions/mean_length", "rewards/EndsWithA/mean",
                "rollout_tokens_per_s", "time/generation_s", "time/update_s")) {
            assertTrue(first.has(k), k + " in " + first);
        }
        // the first update's policy is the reference: k3 is 0 up to rounding, and nothing is clipped
        assertEquals(0, first.get("kl").asDouble(), 1e-5);
        assertEquals(0, first.get("clip_ratio/region_mean").asDouble(), 0);
        assertEquals(res.reward(), Metrics.readEvalFile(out).get("reward").asDouble(), 1e-9);

        // resume from checkpoint-2 in another directory, as if the first run had stopped there
        Path out2 = tmp.resolve("resumed");
        RlTesting.copyDir(out.resolve("checkpoint-2"), out2.resolve("checkpoint-2"));
        GrpoRecipe.run(GrpoRecipe.config(null, common(out2, "resume_from_checkpoint=latest")));
        List<JsonNode> resumed = Metrics.read(out2.resolve("metrics.jsonl"));
        for (int step = 3; step <= 4; step++) {
            JsonNode a = RlTesting.line(lines, step);
            JsonNode b = RlTesting.line(resumed, step);
            for (String k : List.of("loss", "grad_norm", "reward", "kl", "completions/mean_length")) {
                assertEquals(a.get(k).asDouble(), b.get(k).asDouble(), 0, "step " + step + " " + k);
            }
        }
        try (NDManager m = Engines.newManager();
                SafeTensors.Reader a = SafeTensors.open(out.resolve("model.safetensors"));
                SafeTensors.Reader b = SafeTensors.open(out2.resolve("model.safetensors"))) {
            for (String n : a.entries().keySet()) {
                assertArrayEquals(a.read(n, m).toFloatArray(), b.read(n, m).toFloatArray(), 0f, n);
            }
        }
    }

    /**
     * LoRA: only the adapters train, the reference is the same model with the adapters off (k3 is 0 while
     * B is still 0 and grows after), the output is a PEFT adapter directory (plus merged/), and a resume
     * from checkpoint-2 equals the straight run.
     */
    @Test
    void loraTrainsAdaptersAgainstTheBaseAsReference() throws Exception {
        Path out = tmp.resolve("lora");
        GrpoRecipe.run(GrpoRecipe.config(null, common(out, "lora_r=4", "lora_alpha=8", "merge_lora=true")));
        for (String f : List.of("adapter_config.json", "adapter_model.safetensors", "merged/model.safetensors",
                "checkpoint-2/adapter_model.safetensors")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        List<JsonNode> lines = Metrics.read(out.resolve("metrics.jsonl"));
        assertEquals(0, RlTesting.line(lines, 1).get("kl").asDouble(), 1e-6);
        assertTrue(RlTesting.line(lines, 4).get("kl").asDouble() > 1e-5, "the adapters moved the policy: " + lines);
        Path out2 = tmp.resolve("lora-resumed");
        RlTesting.copyDir(out.resolve("checkpoint-2"), out2.resolve("checkpoint-2"));
        GrpoRecipe.run(GrpoRecipe.config(null, common(out2, "lora_r=4", "lora_alpha=8", "resume_from_checkpoint=latest")));
        try (NDManager m = Engines.newManager();
                SafeTensors.Reader a = SafeTensors.open(out.resolve("adapter_model.safetensors"));
                SafeTensors.Reader b = SafeTensors.open(out2.resolve("adapter_model.safetensors"))) {
            for (String n : a.entries().keySet()) {
                assertArrayEquals(a.read(n, m).toFloatArray(), b.read(n, m).toFloatArray(), 0f, n);
            }
        }
    }

    /**
     * A rollout reused: 4 micro-batches per rollout, 2 per optimizer step, 2 passes (μ = 2) make 4 optimizer
     * steps per rollout; the other aggregations, batch-std scaling and masking of truncated completions run.
     */
    @Test
    void rolloutsAreReusedAcrossIterationsAndMicroBatches() {
        for (String loss : List.of("grpo", "dr_grpo")) {
            Path out = tmp.resolve("mu-" + loss);
            GrpoRecipe.run(GrpoRecipe.config(null, common(out, "batch_size=2", "gradient_accumulation_steps=2",
                    "steps_per_generation=4", "num_iterations=2", "max_steps=2", "loss_type=" + loss,
                    "scale_rewards=batch", "mask_truncated_completions=true", "eval_file=null")));
            TrainingState s = TrainingState.read(out.resolve("checkpoint-2/training_state"));
            assertEquals(8, s.schedulerStep(), "2 rollouts × 2 iterations × 4/2 optimizer steps");
            JsonNode last = RlTesting.line(Metrics.read(out.resolve("metrics.jsonl")), 2);
            assertTrue(Double.isFinite(last.get("loss").asDouble()), last.toString());
            // every completion hit max_completion_length here: all are masked out of the loss
            assertEquals(1.0, last.get("completions/clipped_ratio").asDouble(), 0);
            assertEquals(0.0, last.get("loss").asDouble(), 0);
        }
    }
}
