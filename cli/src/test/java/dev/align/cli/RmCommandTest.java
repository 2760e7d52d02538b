package dev.align.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.testing.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code align rm} and {@code align score} end to end: training from a YAML config plus overrides, resume,
 * eval_only, the key list in --help, scores against reference numbers (rm_loss.json for texts,
 * transformers' apply_chat_template for conversations), and bad input refused with exit 2.
 */
class RmCommandTest {
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

    private Path rankings() throws IOException {
        Path f = tmp.resolve("rankings.jsonl");
        Files.writeString(f, String.join("\n",
                "{\"prompt\": \"beti bizi\", \"responses\": [\" boki bube\", \" bufo\", \" betu biro bive\", \" bumi\"], \"ranking\": [0, 3, 1, 2]}",
                "{\"prompt\": \"bevi beta boli\", \"responses\": [\" bere\", \" bisu bufo\", \" bolu\"], \"scores\": [1, 3, 2]}",
                "{\"prompt\": \"bina buko\", \"responses\": [\" bike\", \" beta biso\", \" beda\", \" bona bifo\"], \"ranking\": [3, 2, 1, 0]}",
                "{\"prompt\": \"besu\", \"responses\": [\" bise bimo\", \" buka\"], \"ranking\": [1, 0]}") + "\n");
        return f;
    }

    @Test
    void trainsFromAConfigFileResumesAndEvaluates() throws IOException {
        Path data = rankings();
        Path out = tmp.resolve("rm");
        Path cfg = tmp.resolve("rm.yaml");
        Files.writeString(cfg, String.join("\n",
                "model: " + Fixtures.reference("llama_gqa"),
                "train_file: " + data,
                "eval_file: " + data,
                "output_dir: " + out,
                "batch_size: 2",
                "max_steps: 3",
                "save_steps: 2",
                "learning_rate: 1.0e-3",
                "center_rewards_coefficient: 0.01",
                "cache: false",
                "progress: false") + "\n");
        Run r = run("rm", "--config", cfg.toString(), "logging_steps=1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("eval: loss "), r.out());
        assertTrue(r.err().contains("trained 3 steps"), r.err());
        JsonNode eval = Fixtures.json(out.resolve("eval_metrics.json"));
        assertEquals(6 + 3 + 6 + 1, eval.get("pairs").asInt(), "C(4,2) + 3 scored pairs + C(4,2) + 1");
        assertTrue(Files.readString(out.resolve("config.yaml")).contains("center_rewards_coefficient: 0.01"));
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")));

        Run again = run("rm", "--config", cfg.toString(), "--resume", "max_steps=4");
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("trained 4 steps"), again.err());
        assertTrue(Files.isDirectory(out.resolve("checkpoint-4")));

        Run evalOnly = run("rm", "model=" + out, "eval_file=" + data, "output_dir=" + tmp.resolve("eval"),
                "eval_only=true", "cache=false");
        assertEquals(0, evalOnly.code(), evalOnly.err());
        assertTrue(Files.isRegularFile(tmp.resolve("eval/eval_metrics.json")));
        assertFalse(Files.exists(tmp.resolve("eval/model.safetensors")));
    }

    @Test
    void loraRewardModelMergesWithAlignMerge() throws IOException {
        Path data = rankings();
        Path out = tmp.resolve("lora");
        Run r = run("rm", "model=" + Fixtures.reference("llama_gqa"), "train_file=" + data, "output_dir=" + out,
                "lora_r=4", "lora_target_modules=[q_proj, v_proj]", "max_steps=2", "batch_size=2", "learning_rate=1e-2",
                "cache=false", "progress=false");
        assertEquals(0, r.code(), r.err());
        Path merged = tmp.resolve("merged");
        Run m = run("merge", "--base", Fixtures.reference("llama_gqa").toString(), "--adapter", out.toString(),
                "--out", merged.toString());
        assertEquals(0, m.code(), m.err());
        Path texts = tmp.resolve("texts.jsonl");
        Files.writeString(texts, "{\"prompt\": \"beti bizi\", \"completion\": \" boki bube\"}\n"
                + "{\"prompt\": \"besu\", \"completion\": \" buka bise bimo\"}\n");
        double[][] rewards = new double[2][];
        Path[] models = {out, merged};
        for (int i = 0; i < 2; i++) {
            Path o = tmp.resolve("scores" + i + ".jsonl");
            Run s = run("score", "--model", models[i].toString(), "--data", texts.toString(), "--out", o.toString());
            assertEquals(0, s.code(), s.err());
            rewards[i] = Fixtures.jsonl(o).stream().mapToDouble(n -> n.get("reward").asDouble()).toArray();
        }
        assertEquals(rewards[0][0], rewards[1][0], 1e-5);
        assertEquals(rewards[0][1], rewards[1][1], 1e-5);
        assertEquals("LlamaForSequenceClassification",
                Fixtures.json(merged.resolve("config.json")).get("architectures").get(0).asText());
    }

    @Test
    void helpListsTheKeysAndBadInputExitsTwo() throws IOException {
        Run help = run("rm", "--help");
        assertEquals(0, help.code());
        for (String k : new String[] {"center_rewards_coefficient = (none)", "learning_rate = 1.0E-4", "lora_r = 0",
            "skip_bad_records = false", "eval_only = false"}) {
            assertTrue(help.out().contains(k), k + " in\n" + help.out());
        }
        Run unknown = run("rm", "model=x", "learning_rat=1");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("unknown key 'learning_rat' (did you mean 'learning_rate'?)"), unknown.err());

        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"prompt\": \"beti\", \"responses\": [\" bike\", \" beta\"], \"ranking\": [0, 0]}\n"
                + "{\"prompt\": \"beti\", \"chosen\": \" bike\"}\n");
        Run r = run("rm", "model=" + Fixtures.reference("llama_gqa"), "train_file=" + bad,
                "output_dir=" + tmp.resolve("never"), "cache=false");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(bad + ":1: ranking: not a permutation of 0..1: [0, 0]"), r.err());
        assertFalse(Files.exists(tmp.resolve("never/model.safetensors")));
    }

    @Test
    void scoresTextsAndConversationsAsReferences() throws IOException {
        List<JsonNode> pref = Fixtures.jsonl(Fixtures.reference("data/pref.jsonl"));
        StringBuilder sb = new StringBuilder();
        for (JsonNode p : pref) {
            sb.append("{\"prompt\": ").append(p.get("prompt")).append(", \"completion\": ").append(p.get("chosen"))
                    .append("}\n");
        }
        Path texts = tmp.resolve("texts.jsonl");
        Files.writeString(texts, sb.toString());
        Path out = tmp.resolve("texts.out.jsonl");
        Run r = run("score", "--model", Fixtures.reference("rm_llama").toString(), "--data", texts.toString(),
                "--out", out.toString(), "--batch-size", "5");
        assertEquals(0, r.code(), r.err());
        List<JsonNode> got = Fixtures.jsonl(out);
        assertEquals(32, got.size());
        double mean = got.stream().mapToDouble(n -> n.get("reward").asDouble()).average().orElseThrow();
        assertEquals(Fixtures.json(Fixtures.reference("expected/rm_loss.json")).get("rewards/chosen").asDouble(), mean, 1e-4);

        JsonNode conv = Fixtures.json(Fixtures.root().getParent()
                .resolve("reward-model/src/test/resources/reference/rm_eval.json")).get("conversations");
        sb.setLength(0);
        conv.forEach(c -> sb.append("{\"messages\": ").append(c.get("messages")).append("}\n"));
        Path convs = tmp.resolve("convs.jsonl");
        Files.writeString(convs, sb.toString());
        Path convOut = tmp.resolve("convs.out.jsonl");
        Run rc = run("score", "--model", Fixtures.reference("rm_llama").toString(), "--data", convs.toString(),
                "--out", convOut.toString());
        assertEquals(0, rc.code(), rc.err());
        List<JsonNode> cg = Fixtures.jsonl(convOut);
        assertEquals(conv.size(), cg.size());
        for (int i = 0; i < cg.size(); i++) {
            assertEquals(conv.get(i).get("reward").asDouble(), cg.get(i).get("reward").asDouble(), 1e-4, "conversation " + i);
        }
    }

    @Test
    void scoreRefusesBadRecordsAndCausalModels() throws IOException {
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, String.join("\n",
                "{\"prompt\": \"bega\", \"completion\": \" bozi\"}",
                "{\"prompt\": \"bega\", \"completion\": \"\"}",
                "not json",
                "{\"prompt\": \"bega\", \"completion\": 4}") + "\n");
        Path out = tmp.resolve("out.jsonl");
        Run r = run("score", "--model", Fixtures.reference("rm_llama").toString(), "--data", bad.toString(),
                "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertFalse(Files.exists(out));
        assertTrue(r.err().contains(bad + ":2: completion: empty completion"), r.err());
        assertTrue(r.err().contains(bad + ":3: malformed JSON"), r.err());
        assertTrue(r.err().contains(bad + ":4: completion: expected a string"), r.err());

        List<String> good = new ArrayList<>(List.of("score", "--model", Fixtures.reference("llama_gqa").toString(),
                "--data", bad.toString(), "--out", out.toString()));
        Run causal = run(good.toArray(new String[0]));
        assertEquals(1, causal.code());
        assertTrue(causal.err().contains("not a reward model"), causal.err());
    }
}
