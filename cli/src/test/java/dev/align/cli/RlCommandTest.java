package dev.align.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.testing.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code align grpo} and {@code align ppo} end to end: a YAML config plus overrides, --resume, eval_only,
 * the key list in --help, and bad input refused with exit 2 and the file, line and key.
 */
class RlCommandTest {
    @TempDir
    Path tmp;

    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = Main.run(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private Path prompts() throws IOException {
        Path f = tmp.resolve("prompts.jsonl");
        Files.writeString(f, String.join("\n",
                "{\"prompt\": \"beti bizi\", \"answer\": \"3\"}",
                "{\"prompt\": \"bevi beta boli\", \"answer\": \"1\"}",
                "{\"prompt\": \"bina buko\", \"answer\": \"4\"}",
                "{\"prompt\": \"besu\", \"answer\": \"0\"}") + "\n");
        return f;
    }

    @Test
    void grpoFromAConfigFileResumesAndEvaluates() throws IOException {
        Path data = prompts();
        Path out = tmp.resolve("grpo");
        Path cfg = tmp.resolve("grpo.yaml");
        Files.writeString(cfg, String.join("\n",
                "model: " + Fixtures.reference("llama_gqa"),
                "train_file: " + data,
                "eval_file: " + data,
                "output_dir: " + out,
                "reward_funcs: [regex, length_penalty]",
                "reward_weights: [1.0, 0.5]",
                "regex_pattern: 'b[ei]ka'",
                "num_generations: 4",
                "batch_size: 8",
                "max_completion_length: 5",
                "max_steps: 2",
                "save_steps: 1",
                "cache: false",
                "progress: false") + "\n");
        Run r = run("grpo", "--config", cfg.toString(), "learning_rate=1e-3");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("eval (greedy): reward "), r.out());
        assertTrue(r.err().contains("trained 2 steps"), r.err());
        JsonNode resolved = Fixtures.json(out.resolve("provenance.json")).get("config");
        assertEquals(1e-3, resolved.get("learning_rate").asDouble());
        assertEquals("b[ei]ka", resolved.get("regex_pattern").asText());
        Run again = run("grpo", "--config", cfg.toString(), "--resume", "learning_rate=1e-3", "max_steps=3");
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("trained 3 steps"), again.err());
        Run eval = run("grpo", "--config", cfg.toString(), "eval_only=true", "output_dir=" + tmp.resolve("ev"));
        assertEquals(0, eval.code(), eval.err());
        assertTrue(Files.isRegularFile(tmp.resolve("ev/eval_metrics.json")));
    }

    @Test
    void ppoWritesThePolicyAndTheCritic() throws IOException {
        Path data = prompts();
        Path out = tmp.resolve("ppo");
        Run r = run("ppo", "model=" + Fixtures.reference("llama_gqa"), "reward_model=" + Fixtures.reference("rm_llama"),
                "train_file=" + data, "output_dir=" + out, "batch_size=2", "num_mini_batches=2", "response_length=4",
                "max_steps=1", "cache=false", "progress=false", "kl_estimator=k3");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")));
        assertTrue(Files.isRegularFile(out.resolve("value_model/model.safetensors")));
        assertTrue(Files.readString(out.resolve("metrics.jsonl")).contains("\"objective/rlhf_reward\""));
    }

    @Test
    void helpListsTheKeys() {
        Run g = run("grpo", "--help");
        assertEquals(0, g.code());
        for (String k : List.of("num_generations = 8", "epsilon_high = (none)", "loss_type = dapo", "reward_funcs = []",
                "learning_rate = 1.0E-6", "beta = 0.0")) {
            assertTrue(g.out().contains(k), k + " in\n" + g.out());
        }
        Run p = run("ppo", "--help");
        assertEquals(0, p.code());
        for (String k : List.of("kl_coef = 0.05", "cliprange_value = 0.2", "vf_coef = 0.1", "num_ppo_epochs = 4",
                "value_model = (none)", "response_length = 53", "lam = 0.95")) {
            assertTrue(p.out().contains(k), k + " in\n" + p.out());
        }
    }

    @Test
    void badInputIsRefusedWithExitTwo() throws IOException {
        Path data = prompts();
        Files.writeString(data, "{\"prompt\": \"besu\"}\n", java.nio.file.StandardOpenOption.APPEND);
        String model = "model=" + Fixtures.reference("llama_gqa");
        Run missing = run("grpo", model, "train_file=" + data, "output_dir=" + tmp.resolve("a"),
                "reward_funcs=[exact_match]", "cache=false");
        assertEquals(2, missing.code(), missing.err());
        assertTrue(missing.err().contains(data + ":5: answer: missing field (exact_match needs it)"), missing.err());
        Run noClass = run("grpo", model, "train_file=" + data, "output_dir=" + tmp.resolve("b"),
                "reward_funcs=[com.example.Missing]");
        assertEquals(2, noClass.code());
        assertTrue(noClass.err().contains("reward_funcs: 'com.example.Missing' is neither a built-in"), noClass.err());
        Run unknown = run("ppo", model, "train_file=" + data, "output_dir=" + tmp.resolve("c"), "kl_coeff=0.1");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("unknown key 'kl_coeff' (did you mean 'kl_coef'?)"), unknown.err());
        Run noCritic = run("ppo", model, "train_file=" + data, "output_dir=" + tmp.resolve("d"),
                "reward_funcs=[regex]", "regex_pattern=x");
        assertEquals(2, noCritic.code());
        assertTrue(noCritic.err().contains("value_model: PPO's critic starts from a reward model"), noCritic.err());
        Run badLoss = run("grpo", model, "train_file=" + data, "output_dir=" + tmp.resolve("e"),
                "reward_funcs=[regex]", "regex_pattern=x", "loss_type=bnpo");
        assertEquals(2, badLoss.code());
        assertTrue(badLoss.err().contains("loss_type: must be dapo, grpo or dr_grpo"), badLoss.err());
    }
}
