package dev.align.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code align sft} and {@code align pretrain} end to end. */
class SftCommandTest {
    @TempDir
    Path tmp;

    /** Runs the command line; returns the exit code and what it wrote to stderr and stdout. */
    static Run align(String... args) {
        PrintStream savedErr = System.err;
        PrintStream savedOut = System.out;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            int rc = Main.run(args);
            return new Run(rc, err.toString(StandardCharsets.UTF_8), out.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(savedErr);
            System.setOut(savedOut);
        }
    }

    record Run(int rc, String err, String out) {}

    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa", "qwen2_tied_bf16", "gpt2"})
    void evalOnlyReproducesReference(String ckpt) {
        Path out = tmp.resolve(ckpt);
        Run r = align("sft", "eval_only=true", "model=" + Fixtures.reference(ckpt),
                "eval_file=" + Fixtures.reference("data/sft.jsonl"), "output_dir=" + out, "cache=false");
        assertEquals(0, r.rc(), r.err());
        JsonNode got = Fixtures.json(out.resolve("eval_metrics.json"));
        JsonNode exp = Fixtures.json(Fixtures.reference("expected/sft_loss_" + ckpt + ".json"));
        assertEquals(exp.get("loss").asDouble(), got.get("loss").asDouble(), 1e-4);
        assertEquals(exp.get("mean_token_accuracy").asDouble(), got.get("mean_token_accuracy").asDouble(), 1e-4);
        assertTrue(r.err().contains("eval loss"), r.err());
    }

    @Test
    void trainsCheckpointsAndResumesExactly() throws Exception {
        Path out = tmp.resolve("run");
        String[] args = {"sft", "model=" + Fixtures.reference("llama_gqa"), "train_file=" + Fixtures.reference("data/sft.jsonl"),
            "eval_file=" + Fixtures.reference("data/sft.jsonl"), "output_dir=" + out, "learning_rate=5e-3",
            "lr_scheduler_type=cosine", "warmup_ratio=0.2", "batch_size=4", "gradient_accumulation_steps=2",
            "max_steps=6", "save_steps=3", "logging_steps=1", "eval_steps=3", "progress=false", "cache=false"};
        Run first = align(args);
        assertEquals(0, first.rc(), first.err());
        assertTrue(first.err().contains("trained 6 steps"), first.err());
        for (String f : List.of("metrics.jsonl", "loss.png", "config.yaml", "provenance.json", "eval_metrics.json",
                "config.json", "model.safetensors", "tokenizer.json", "checkpoint-3", "checkpoint-6")) {
            assertTrue(Files.exists(out.resolve(f)), f);
        }
        List<JsonNode> lines = Metrics.read(out.resolve("metrics.jsonl"));
        List<JsonNode> train = steps(lines, "loss");
        assertEquals(6, train.size());
        assertTrue(train.get(5).get("loss").asDouble() < train.get(0).get("loss").asDouble() - 0.3,
                "loss decreases: " + train);
        assertTrue(train.get(0).has("mean_token_accuracy"));
        assertEquals(2, steps(lines, "eval_loss").size(), "eval at steps 3 and 6");
        try (NDManager root = Engines.newManager(); DecoderLM m = DecoderLM.load(out, root)) {
            assertEquals("llama", m.config().modelType());
        }
        assertTrue(Files.readString(out.resolve("config.yaml")).contains("learning_rate: 0.005"));

        // kill after step 3: drop what came later, resume from checkpoint-3
        byte[] weights = Files.readAllBytes(out.resolve("model.safetensors"));
        deleteTree(out.resolve("checkpoint-6"));
        Files.delete(out.resolve("model.safetensors"));
        List<String> resumed = new ArrayList<>(List.of(args));
        resumed.add(1, "--resume");
        Run second = align(resumed.toArray(String[]::new));
        assertEquals(0, second.rc(), second.err());
        assertTrue(second.err().contains("resuming after step 3"), second.err());
        assertArrayEquals(weights, Files.readAllBytes(out.resolve("model.safetensors")), "exact resume: same final weights");
        List<JsonNode> again = Metrics.read(out.resolve("metrics.jsonl"));
        List<JsonNode> train2 = steps(again, "loss");
        assertEquals(6, train2.size());
        for (int i = 0; i < 6; i++) {
            assertEquals(train.get(i).get("loss").asDouble(), train2.get(i).get("loss").asDouble(), 0, "loss of step " + (i + 1));
            assertEquals(train.get(i).get("grad_norm").asDouble(), train2.get(i).get("grad_norm").asDouble(), 0);
        }
        assertEquals(steps(lines, "eval_loss").get(1).get("eval_loss").asDouble(),
                steps(again, "eval_loss").get(1).get("eval_loss").asDouble(), 0);
    }

    @Test
    void badKeysAndBadDataExitTwo() throws Exception {
        Run r = align("sft", "model=" + Fixtures.reference("llama_gqa"), "learning_rat=1e-4");
        assertEquals(2, r.rc());
        assertTrue(r.err().contains("unknown key 'learning_rat' (did you mean 'learning_rate'?)"), r.err());

        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"prompt\": \"bega\", \"completion\": \" bozi\"}\n{\"prompt\": \"bega\"}\n");
        Path out = tmp.resolve("bad-run");
        r = align("sft", "model=" + Fixtures.reference("llama_gqa"), "train_file=" + bad, "output_dir=" + out, "cache=false");
        assertEquals(2, r.rc());
        assertTrue(r.err().contains(bad + ":2: completion: missing field"), r.err());
        assertFalse(Files.exists(out.resolve("metrics.jsonl")), "nothing trained");

        Path pref = tmp.resolve("pref.jsonl");
        Files.writeString(pref, "{\"prompt\": \"bega\", \"chosen\": \" bozi\", \"rejected\": \" bedu\"}\n");
        r = align("sft", "model=" + Fixtures.reference("llama_gqa"), "train_file=" + pref, "output_dir=" + out, "cache=false");
        assertEquals(2, r.rc());
        assertTrue(r.err().contains("sft needs"), r.err());
    }

    @Test
    void helpListsEveryKey() {
        Run r = align("sft", "--help");
        assertEquals(0, r.rc());
        for (String k : List.of("packing", "learning_rate", "lora_target_modules", "completion_only_loss",
                "assistant_only_loss", "dataset_format", "max_length", "eval_only", "warmup_ratio")) {
            assertTrue(r.out().contains("  " + k + " "), k + " in\n" + r.out());
        }
        assertTrue(r.out().matches("(?s).*\\n  learning_rate +2\\.0E-5\\R.*"), "SFT's learning rate: TRL's 2e-5");
        assertTrue(align("pretrain", "--help").out().matches("(?s).*\\n  learning_rate +5\\.0E-4\\R.*"),
                "pre-training's own learning-rate default");
    }

    /** The checked-in configs/pretrain-tiny.yaml binds, and pre-trains from its config.json alone. */
    @Test
    void pretrainConfigFile() throws Exception {
        Path repo = Fixtures.root().getParent();
        Path bundled = repo.resolve("datasets/src/main/resources/bundled");
        Path out = tmp.resolve("pretrain");
        Run r = align("pretrain", "--config", repo.resolve("configs/pretrain-tiny.yaml").toString(),
                "model=" + repo.resolve("configs/tiny-llama"), "tokenizer=" + bundled,
                "train_file=" + bundled.resolve("pretrain_test.jsonl"), "eval_file=null", "output_dir=" + out,
                "batch_size=2", "max_length=64", "max_steps=2", "cache=false", "progress=false");
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.err().contains("trained 2 steps"), r.err());
        assertTrue(Files.readString(out.resolve("config.yaml")).contains("lr_scheduler_type: cosine"));
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")));
    }

    private static List<JsonNode> steps(List<JsonNode> lines, String key) {
        List<JsonNode> o = new ArrayList<>();
        for (JsonNode l : lines) {
            if (l.has(key)) {
                o.add(l);
            }
        }
        return o;
    }

    private static void deleteTree(Path p) throws Exception {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
