package dev.align.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.testing.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code align logprobs} end to end: reference numbers, and bad input refused before any model work. */
class LogprobsCommandTest {
    @TempDir
    Path tmp;

    @Test
    void scoresMatchReference() {
        Path out = tmp.resolve("out.jsonl");
        int rc = Main.run("logprobs", "--model", Fixtures.reference("gpt2").toString(),
                "--data", Fixtures.reference("data/sft.jsonl").toString(), "--out", out.toString(), "--batch-size", "5");
        assertEquals(0, rc);
        List<JsonNode> got = Fixtures.jsonl(out);
        List<JsonNode> exp = Fixtures.jsonl(Fixtures.reference("expected/logprobs_gpt2.jsonl"));
        assertEquals(exp.size(), got.size());
        for (int i = 0; i < exp.size(); i++) {
            assertEquals(exp.get(i).get("logprob").asDouble(), got.get(i).get("logprob").asDouble(), 1e-4, "record " + i);
            assertEquals(exp.get(i).get("n_tokens").asInt(), got.get(i).get("n_tokens").asInt());
        }
    }

    @Test
    void badRecordsExitTwoAndWriteNothing() throws Exception {
        Path data = tmp.resolve("bad.jsonl");
        Files.writeString(data, String.join("\n",
                "{\"prompt\": \"bega\", \"completion\": \" bozi\"}",
                "{\"prompt\": \"bega\"}",
                "not json",
                "{\"prompt\": 3, \"completion\": \" bozi\"}",
                "{\"prompt\": \"\", \"completion\": \"\"}",
                "{\"prompt\": \"" + "bega ".repeat(1100) + "\", \"completion\": \" bozi\"}") + "\n");
        Path out = tmp.resolve("out.jsonl");
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            rc = Main.run("logprobs", "--model", Fixtures.reference("gpt2").toString(), "--data", data.toString(),
                    "--out", out.toString());
        } finally {
            System.setErr(saved);
        }
        String msg = err.toString(StandardCharsets.UTF_8);
        assertEquals(2, rc, msg);
        assertFalse(Files.exists(out));
        assertTrue(msg.contains(data + ":2: completion: missing field"), msg);
        assertTrue(msg.contains(data + ":3: malformed JSON"), msg);
        assertTrue(msg.contains(data + ":4: prompt: expected a string"), msg);
        assertTrue(msg.contains(data + ":5: prompt, completion: both empty"), msg);
        assertTrue(msg.contains(data + ":6: prompt+completion: ") && msg.contains("max_position_embeddings 1024"), msg);
        assertFalse(msg.contains(data + ":1:"), msg);
    }
}
