package dev.align.po.ppo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.Engines;
import dev.align.core.io.SafeTensors;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.ModelConfig;
import dev.align.core.train.Metrics;
import dev.align.core.train.TrainingState;
import dev.align.po.testing.RlFixtures;
import dev.align.po.testing.RlTesting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code align ppo} end to end: llama_gqa as the policy, rm_llama (same tokenizer) as the reward model and
 * the critic's start, plus a rule reward. The output directory (the policy, the critic in value_model/,
 * metrics with TRL's keys, checkpoints) and an exact resume with the adaptive KL controller (β, the critic
 * and its optimizer restored): 2 + 2 steps equal 4 straight steps bit for bit.
 */
class PpoTrainTest {
    @TempDir
    Path tmp;

    List<String> common(Path out, String... more) {
        Path train = RlFixtures.prompts(tmp.resolve("train.jsonl"), 12, 1);
        Path eval = RlFixtures.prompts(tmp.resolve("eval.jsonl"), 4, 2);
        List<String> o = new ArrayList<>(List.of("model=" + RlFixtures.policy(), "train_file=" + train,
                "eval_file=" + eval, "output_dir=" + out, "reward_model=" + RlFixtures.rewardModel(),
                "reward_funcs=[dev.align.po.testing.EndsWithA]", "batch_size=2", "gradient_accumulation_steps=2",
                "num_mini_batches=2", "num_ppo_epochs=2", "response_length=5", "max_steps=4", "save_steps=2",
                "logging_steps=1", "learning_rate=1e-3", "cache=false", "progress=false", "seed=5", "adap_kl_ctrl=true",
                "target=0.01", "horizon=100", "kl_coef=0.1"));
        o.addAll(List.of(more));
        return o;
    }

    @Test
    void trainsWritesAndResumesExactly() throws Exception {
        Path out = tmp.resolve("run");
        PpoRecipe.Result res = PpoRecipe.run(PpoRecipe.config(null, common(out)));
        assertEquals(4, res.steps());
        for (String f : List.of("config.json", "model.safetensors", "value_model/config.json",
                "value_model/model.safetensors", "config.yaml", "provenance.json", Metrics.EVAL_FILE,
                "checkpoint-2/value_model/model.safetensors",
                "checkpoint-2/training_state/" + PpoRecipe.VALUE_OPTIMIZER_DIR + "/optimizer.safetensors")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        try (NDManager m = Engines.newManager(); DecoderLM policy = DecoderLM.load(out, m);
                DecoderLM critic = DecoderLM.load(out.resolve("value_model"), m)) {
            assertEquals(ModelConfig.Head.CAUSAL_LM, policy.config().head());
            assertEquals(ModelConfig.Head.SEQUENCE_CLASSIFICATION, critic.config().head());
        }
        List<JsonNode> lines = Metrics.read(out.resolve("metrics.jsonl"));
        JsonNode first = RlTesting.line(lines, 1);
        for (String k : List.of("objective/kl", "objective/scores", "objective/rlhf_reward", "objective/entropy",
                "objective/non_score_reward", "policy/approxkl_avg", "policy/clipfrac_avg", "loss/policy_avg",
                "loss/value_avg", "val/ratio", "val/clipfrac_avg", "kl_coef", "rewards/reward_model/mean",
                "rewards/EndsWithA/mean", "rollout_tokens_per_s")) {
            assertTrue(first.has(k), k + " in " + first);
        }
        // the first rollout's policy is the reference: no KL; β moves (adaptive) after each rollout
        assertEquals(0, first.get("objective/kl").asDouble(), 1e-5);
        assertEquals(0.1, first.get("kl_coef").asDouble(), 1e-12);
        double beta2 = RlTesting.line(lines, 2).get("kl_coef").asDouble();
        assertEquals(0.1 * (1 - 0.2 * 8 / 100.0), beta2, 1e-9, "KL 0 < target: β shrinks by the clipped error (8 samples per rollout)");
        TrainingState s2 = TrainingState.read(out.resolve("checkpoint-2/training_state"));
        assertEquals(RlTesting.line(lines, 3).get("kl_coef").asDouble(), s2.extra().get("kl_coef").asDouble(), 0);

        Path out2 = tmp.resolve("resumed");
        RlTesting.copyDir(out.resolve("checkpoint-2"), out2.resolve("checkpoint-2"));
        PpoRecipe.run(PpoRecipe.config(null, common(out2, "resume_from_checkpoint=latest")));
        List<JsonNode> resumed = Metrics.read(out2.resolve("metrics.jsonl"));
        for (int step = 3; step <= 4; step++) {
            JsonNode a = RlTesting.line(lines, step);
            JsonNode b = RlTesting.line(resumed, step);
            for (String k : List.of("loss", "grad_norm", "objective/scores", "objective/kl", "loss/value_avg", "kl_coef")) {
                assertEquals(a.get(k).asDouble(), b.get(k).asDouble(), 0, "step " + step + " " + k);
            }
        }
        for (String f : List.of("model.safetensors", "value_model/model.safetensors")) {
            try (NDManager m = Engines.newManager(); SafeTensors.Reader a = SafeTensors.open(out.resolve(f));
                    SafeTensors.Reader b = SafeTensors.open(out2.resolve(f))) {
                for (String n : a.entries().keySet()) {
                    assertArrayEquals(a.read(n, m).toFloatArray(), b.read(n, m).toFloatArray(), 0f, f + " " + n);
                }
            }
        }
    }

    /**
     * A critic stored as BF16 (a reward model keeps its dtype on save): checkpoints carry its exact FLOAT32
     * weights, so a resume still equals the straight run bit for bit.
     */
    @Test
    void bf16CriticResumesExactly() throws Exception {
        Path bf16 = tmp.resolve("rm_bf16");
        Files.createDirectories(bf16);
        Path src = RlFixtures.rewardModel();
        try (Stream<Path> files = Files.list(src)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (!f.getFileName().toString().endsWith(".safetensors")) {
                    Files.copy(f, bf16.resolve(f.getFileName()));
                }
            }
        }
        try (NDManager m = Engines.newManager(); SafeTensors.Reader r = SafeTensors.open(src.resolve("model.safetensors"))) {
            List<SafeTensors.Tensor> ts = new ArrayList<>();
            for (String n : r.entries().keySet()) {
                ts.add(new SafeTensors.Tensor(n, r.read(n, m), SafeTensors.Dtype.BF16));
            }
            SafeTensors.write(bf16.resolve("model.safetensors"), ts, Map.of("format", "pt"));
        }
        Path out = tmp.resolve("bf16");
        PpoRecipe.run(PpoRecipe.config(null, common(out, "value_model=" + bf16, "adap_kl_ctrl=false")));
        assertTrue(Files.isRegularFile(out.resolve("checkpoint-2/value_model/training_state/master_weights.safetensors")));
        Path out2 = tmp.resolve("bf16-resumed");
        RlTesting.copyDir(out.resolve("checkpoint-2"), out2.resolve("checkpoint-2"));
        PpoRecipe.run(PpoRecipe.config(null, common(out2, "value_model=" + bf16, "adap_kl_ctrl=false",
                "resume_from_checkpoint=latest")));
        List<JsonNode> a = Metrics.read(out.resolve("metrics.jsonl"));
        List<JsonNode> b = Metrics.read(out2.resolve("metrics.jsonl"));
        for (int step = 3; step <= 4; step++) {
            for (String k : List.of("loss", "loss/value_avg", "grad_norm")) {
                assertEquals(RlTesting.line(a, step).get(k).asDouble(), RlTesting.line(b, step).get(k).asDouble(), 0,
                        "step " + step + " " + k);
            }
        }
    }

    /** LoRA on the policy: adapters and the base as the reference; the critic is trained in full beside it. */
    @Test
    void loraPolicyWithAFullCritic() {
        Path out = tmp.resolve("lora");
        PpoRecipe.Result r = PpoRecipe.run(PpoRecipe.config(null, common(out, "lora_r=4", "max_steps=2")));
        assertEquals(2, r.steps());
        for (String f : List.of("adapter_config.json", "adapter_model.safetensors", "value_model/model.safetensors",
                "checkpoint-2/adapter_model.safetensors", "checkpoint-2/value_model/model.safetensors")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        assertEquals(0, RlTesting.line(Metrics.read(out.resolve("metrics.jsonl")), 1).get("objective/kl").asDouble(), 1e-5);
    }
}
