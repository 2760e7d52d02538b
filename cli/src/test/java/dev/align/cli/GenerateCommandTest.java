package dev.align.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.align.core.testing.Fixtures;
import dev.align.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code align generate}: validation, output, batching, chat rendering, stop strings and seeds. */
class GenerateCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path LLAMA = Fixtures.reference("llama_gqa");

    /** Runs a command object like {@code align} does; returns the exit code and fills {@code err}. */
    static int run(Object command, StringWriter err, String... args) {
        return Main.commandLine(command).setErr(new PrintWriter(err, true)).execute(args);
    }

    @Test
    void badRecordsExitTwoWithFileLineAndWriteNothing(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("p.jsonl");
        Files.writeString(data, String.join("\n",
                "{\"prompt\": \"bidu bulu\"}",
                "{\"text\": \"bega\"}",
                "{\"prompt\": 7}",
                "{not json",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"bega\"}]}",
                "{\"prompt\": \"" + "bega ".repeat(2100) + "\"}",
                "") + "\n");
        Path out = dir.resolve("out.jsonl");
        StringWriter err = new StringWriter();
        int code = run(new GenerateCommand(), err, "--model", LLAMA.toString(), "--data", data.toString(),
                "--out", out.toString(), "--max-new-tokens", "4");
        assertEquals(2, code);
        String e = err.toString();
        assertTrue(e.contains(data + ":2: prompt: missing field"), e);
        assertTrue(e.contains(data + ":3: prompt: expected a string, got number"), e);
        assertTrue(e.contains(data + ":4: malformed JSON"), e);
        assertTrue(e.contains(data + ":5: prompt: missing field (use --chat for messages)"), e);
        assertTrue(e.contains(data + ":6: prompt: 2101 tokens + --max-new-tokens 4 exceed the model's"
                + " max_position_embeddings 2048"), e);
        assertFalse(e.contains(":1:"), e);
        assertFalse(Files.exists(out));
    }

    @Test
    void badOptionsAndChatRecordsExitTwo(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("p.jsonl");
        Files.writeString(data, "{\"messages\": [{\"role\": \"user\", \"content\": 3}]}\n{\"messages\": []}\n"
                + "{\"prompt\": \"bega\"}\n");
        Path out = dir.resolve("out.jsonl");
        StringWriter err = new StringWriter();
        assertEquals(2, run(new GenerateCommand(), err, "--model", LLAMA.toString(), "--data", data.toString(),
                "--out", out.toString(), "--temperature", "-1", "--top-p", "0"));
        assertTrue(err.toString().contains("--temperature: must be a finite number ≥ 0, got -1.0"), err.toString());
        err = new StringWriter();
        assertEquals(2, run(new GenerateCommand(GenerateCommandTest::render), err, "--model", LLAMA.toString(),
                "--data", data.toString(), "--out", out.toString(), "--chat"));
        String e = err.toString();
        assertTrue(e.contains(data + ":1: messages[0].content: expected a string"), e);
        assertTrue(e.contains(data + ":2: messages: expected a non-empty array"), e);
        assertTrue(e.contains(data + ":3: messages: missing field"), e);
        assertFalse(Files.exists(out));
    }

    /** Greedy completions equal transformers' generate (hf_generate.json), in input order, for any batch size. */
    @Test
    void greedyOutputMatchesTransformersAndIgnoresBatching(@TempDir Path dir) throws IOException {
        JsonNode golden;
        try (InputStream in = getClass().getResourceAsStream("/dev/align/core/generate/hf_generate.json")) {
            golden = JSON.readTree(in);
        }
        JsonNode llama = golden.get("cases").get(0);
        assertEquals("llama_gqa", llama.get("checkpoint").asText());
        Path data = dir.resolve("p.jsonl");
        StringBuilder sb = new StringBuilder();
        for (JsonNode p : golden.get("prompts")) {
            sb.append(JSON.createObjectNode().put("prompt", p.asText())).append('\n');
        }
        Files.writeString(data, sb.toString());
        List<String> outs = new ArrayList<>();
        for (String bs : List.of("1", "2", "3")) {
            Path out = dir.resolve("out" + bs + ".jsonl");
            StringWriter err = new StringWriter();
            assertEquals(0, run(new GenerateCommand(), err, "--model", LLAMA.toString(), "--data", data.toString(),
                    "--out", out.toString(), "--max-new-tokens", "12", "--batch-size", bs), err.toString());
            outs.add(Files.readString(out));
        }
        Path plain = dir.resolve("plain.jsonl"); // the plain weights instead of packed copies
        StringWriter err = new StringWriter();
        assertEquals(0, run(new GenerateCommand(), err, "--model", LLAMA.toString(), "--data", data.toString(),
                "--out", plain.toString(), "--max-new-tokens", "12", "--batch-size", "3", "--no-packed-weights"),
                err.toString());
        outs.add(Files.readString(plain));
        assertEquals(outs.get(0), outs.get(1));
        assertEquals(outs.get(0), outs.get(2));
        assertEquals(outs.get(0), outs.get(3));
        List<JsonNode> recs = Fixtures.jsonl(dir.resolve("out1.jsonl"));
        assertEquals(3, recs.size());
        try (Tokenizer tok = Tokenizer.load(LLAMA)) {
            for (int r = 0; r < 3; r++) {
                JsonNode rec = recs.get(r);
                JsonNode row = llama.get("rows").get(r);
                long[] prompt = tok.encode(golden.get("prompts").get(r).asText());
                long[] tokens = new long[row.get("tokens").size()];
                for (int i = 0; i < tokens.length; i++) {
                    tokens[i] = row.get("tokens").get(i).asLong();
                }
                long[] all = Arrays.copyOf(prompt, prompt.length + tokens.length);
                System.arraycopy(tokens, 0, all, prompt.length, tokens.length);
                assertEquals(golden.get("prompts").get(r).asText(), rec.get("prompt").asText());
                assertEquals(tok.decode(all, true), tok.decode(prompt, true) + rec.get("completion").asText());
                assertEquals("length", rec.get("finish_reason").asText());
                assertEquals(12, rec.get("n_tokens").asInt());
            }
        }
    }

    @Test
    void chatRecordsAreRenderedWithTheGenerationPrompt(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("c.jsonl");
        Files.writeString(data, "{\"messages\": [{\"role\": \"user\", \"content\": \"bidu bulu\"}]}\n"
                + "{\"messages\": [{\"role\": \"system\", \"content\": \"bega\"}, {\"role\": \"user\", \"content\": \"bena\"}]}\n");
        Path out = dir.resolve("out.jsonl");
        StringWriter err = new StringWriter();
        assertEquals(0, run(new GenerateCommand(GenerateCommandTest::render), err, "--model", LLAMA.toString(),
                "--data", data.toString(), "--out", out.toString(), "--chat", "--max-new-tokens", "5"), err.toString());
        List<JsonNode> recs = Fixtures.jsonl(out);
        assertEquals("<|im_start|>user\nbidu bulu<|im_end|>\n<|im_start|>assistant\n", recs.get(0).get("prompt").asText());
        assertEquals("<|im_start|>system\nbega<|im_end|>\n<|im_start|>user\nbena<|im_end|>\n<|im_start|>assistant\n",
                recs.get(1).get("prompt").asText());
        // the same text given as a plain prompt gives the same completion, up to the bos the plain path adds
        Path plain = dir.resolve("p.jsonl");
        Files.writeString(plain, JSON.createObjectNode().put("prompt", recs.get(0).get("prompt").asText()) + "\n");
        assertEquals(0, run(new GenerateCommand(), err, "--model", Fixtures.reference("gpt2").toString(), "--data",
                plain.toString(), "--out", dir.resolve("plain.jsonl").toString(), "--max-new-tokens", "5"));
        assertEquals(0, run(new GenerateCommand(GenerateCommandTest::render), err, "--model",
                Fixtures.reference("gpt2").toString(), "--data", data.toString(), "--out",
                dir.resolve("chat.jsonl").toString(), "--chat", "--max-new-tokens", "5"));
        assertEquals(Fixtures.jsonl(dir.resolve("plain.jsonl")).get(0).get("completion"),
                Fixtures.jsonl(dir.resolve("chat.jsonl")).get(0).get("completion"), "gpt2 adds no bos");
    }

    @Test
    void stopStringsAndSeeds(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("p.jsonl");
        Files.writeString(data, "{\"prompt\": \"bidu bulu bena bilo boko\"}\n{\"prompt\": \"bega\"}\n");
        StringWriter err = new StringWriter();
        Path greedy = dir.resolve("g.jsonl");
        assertEquals(0, run(new GenerateCommand(), err, "--model", LLAMA.toString(), "--data", data.toString(),
                "--out", greedy.toString(), "--max-new-tokens", "10"));
        String word = Fixtures.jsonl(greedy).get(0).get("completion").asText().trim().split(" ")[3];
        Path stopped = dir.resolve("s.jsonl");
        assertEquals(0, run(new GenerateCommand(), err, "--model", LLAMA.toString(), "--data", data.toString(),
                "--out", stopped.toString(), "--max-new-tokens", "10", "--stop", word));
        JsonNode s = Fixtures.jsonl(stopped).get(0);
        assertEquals("stop", s.get("finish_reason").asText());
        String full = Fixtures.jsonl(greedy).get(0).get("completion").asText();
        assertEquals(full.substring(0, full.indexOf(word)), s.get("completion").asText());
        List<String> sampled = new ArrayList<>();
        for (String seed : List.of("1", "1", "2")) {
            Path out = dir.resolve("r" + sampled.size() + ".jsonl");
            assertEquals(0, run(new GenerateCommand(), err, "--model", LLAMA.toString(), "--data", data.toString(),
                    "--out", out.toString(), "--max-new-tokens", "16", "--temperature", "1.0", "--seed", seed));
            sampled.add(Files.readString(out));
        }
        assertEquals(sampled.get(0), sampled.get(1));
        assertNotEquals(sampled.get(0), sampled.get(2));
    }

    /** A ChatML stand-in for the tokenizer's template. */
    static String render(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        for (Map<String, Object> m : messages) {
            sb.append("<|im_start|>").append(m.get("role")).append('\n').append(m.get("content")).append("<|im_end|>\n");
        }
        if (addGenerationPrompt) {
            sb.append("<|im_start|>assistant\n");
        }
        return sb.toString();
    }
}
