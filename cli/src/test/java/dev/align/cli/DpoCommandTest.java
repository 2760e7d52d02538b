package dev.align.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.Engines;
import dev.align.core.model.DecoderLM;
import dev.align.core.testing.Fixtures;
import dev.align.core.train.Metrics;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code align dpo} end to end: a short run, its output directory, --resume, bad input, --help. */
class DpoCommandTest {
    @TempDir
    Path tmp;

    private String[] args(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("dpo",
                "model=" + Fixtures.reference("dpo_policy"),
                "train_file=" + Fixtures.reference("data/pref.jsonl"),
                "output_dir=" + out,
                "skip_bad_records=true",
                "cache_dir=" + tmp.resolve("cache"),
                "batch_size=4",
                "logging_steps=1",
                "learning_rate=1e-4",
                "progress=false"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    private static int[] rcAndErr(StringBuilder err, Supplier<Integer> run) {
        PrintStream saved = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
            return new int[] {run.get()};
        } finally {
            System.setErr(saved);
            err.append(buf.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void trainsWritesTheOutputDirectoryAndResumes() {
        Path out = tmp.resolve("run");
        StringBuilder err = new StringBuilder();
        int rc = rcAndErr(err, () -> Main.run(args(out, "max_steps=2", "save_steps=1", "save_total_limit=1",
                "eval_file=" + Fixtures.reference("data/pref.jsonl"))))[0];
        assertEquals(0, rc, err.toString());
        assertTrue(err.toString().contains("trained 2 steps"), err.toString());
        assertTrue(err.toString().contains("rewards/accuracies"), err.toString());
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "config.yaml", "provenance.json",
                "metrics.jsonl", "eval_metrics.json", "checkpoint-2/training_state/trainer_state.json")) {
            assertTrue(Files.exists(out.resolve(f)), f);
        }
        assertFalse(Files.exists(out.resolve("checkpoint-1")), "save_total_limit 1 keeps the newest only");
        List<JsonNode> lines = Metrics.read(out.resolve(Metrics.FILE));
        JsonNode first = lines.get(0);
        for (String k : List.of("loss", "grad_norm", "learning_rate", "rewards/chosen", "rewards/rejected",
                "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected", "logits/chosen",
                "logits/rejected")) {
            assertTrue(first.has(k) && first.get(k).isNumber(), k + " in " + first);
        }
        assertTrue(lines.stream().anyMatch(l -> l.has("eval_loss")), "an eval line");
        try (NDManager m = Engines.newManager(); DecoderLM lm = DecoderLM.load(out, m)) {
            assertEquals(2, lm.config().layers());
        }
        StringBuilder err2 = new StringBuilder();
        int rc2 = rcAndErr(err2, () -> Main.run(args(out, "max_steps=3", "save_steps=1", "save_total_limit=1", "--resume")))[0];
        assertEquals(0, rc2, err2.toString());
        List<JsonNode> after = Metrics.read(out.resolve(Metrics.FILE));
        assertEquals(3, after.stream().filter(l -> l.has("loss")).count(), after.toString());
        assertEquals(lines.get(0).toString(), after.get(0).toString(), "resume keeps the lines before the checkpoint");
        assertTrue(Files.exists(out.resolve("checkpoint-3")));
    }

    @Test
    void badDataExitsTwoBeforeAnyModelWork() throws Exception {
        Path data = tmp.resolve("bad.jsonl");
        Files.writeString(data, String.join("\n",
                "{\"prompt\": \"bina\", \"chosen\": \" bike\", \"rejected\": \" beta\"}",
                "{\"prompt\": \"bina\", \"chosen\": \" bike\"}",
                "{\"prompt\": \"bina\", \"chosen\": \" bike\", \"rejected\": \" bike\"}") + "\n");
        Path out = tmp.resolve("bad");
        StringBuilder err = new StringBuilder();
        List<String> a = new ArrayList<>(List.of(args(out)));
        a.set(2, "train_file=" + data);
        a.remove("skip_bad_records=true");
        int rc = rcAndErr(err, () -> Main.run(a.toArray(String[]::new)))[0];
        assertEquals(2, rc, err.toString());
        assertTrue(err.toString().contains(data + ":2: rejected: missing field"), err.toString());
        assertTrue(err.toString().contains(data + ":3: rejected: same as chosen"), err.toString());
        assertFalse(Files.exists(out.resolve("config.json")));
    }

    @Test
    void unknownKeyAndBadValueExitTwo() {
        StringBuilder err = new StringBuilder();
        assertEquals(2, rcAndErr(err, () -> Main.run(args(tmp.resolve("x"), "bta=0.2")))[0]);
        assertTrue(err.toString().contains("unknown key 'bta' (did you mean 'beta'?)"), err.toString());
        StringBuilder err2 = new StringBuilder();
        assertEquals(2, rcAndErr(err2, () -> Main.run(args(tmp.resolve("x"), "loss_type=kto")))[0]);
        assertTrue(err2.toString().contains("loss_type: unknown 'kto'"), err2.toString());
        StringBuilder err3 = new StringBuilder();
        assertEquals(2, rcAndErr(err3, () -> Main.run(args(tmp.resolve("x"), "loss_type=hinge", "label_smoothing=0.1")))[0]);
        assertTrue(err3.toString().contains("label_smoothing: applies to sigmoid (cDPO), robust and simpo"), err3.toString());
    }

    @Test
    void helpListsTheKeysWithDefaults() {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int rc;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            rc = Main.run("dpo", "--help");
        } finally {
            System.setOut(saved);
        }
        String help = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc);
        assertTrue(help.matches("(?s).*\\n  beta +0\\.1\\n.*"), help);
        assertTrue(help.matches("(?s).*\\n  loss_type +sigmoid\\n.*"), help);
        assertTrue(help.matches("(?s).*\\n  learning_rate +1\\.0E-6\\n.*"), help);
        assertTrue(help.matches("(?s).*\\n  max_length +1024\\n.*"), help);
        assertTrue(help.contains("precompute_ref_log_probs"), help);
    }
}
