package dev.align.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.align.datasets.bundled.Bundled;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** End to end: {@code align data check} on a bundled file (exit 0) and on a bad file (exit 2). */
class DataCheckCommandTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void extract() {
        Bundled.extractTo(dir);
    }

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

    @Test
    void aBundledFileIsClean() {
        Run r = run("data", "check", dir.resolve("qa_train.jsonl").toString(), "--model", dir.toString(),
                "--max-length", "16");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("format:       prompt_completion\n"), r.out());
        assertTrue(r.out().contains("records:      1096 (0 bad)\n"), r.out());
        assertTrue(r.out().matches("(?s).*tokens/seq:   p50 \\d+  p90 \\d+  p99 \\d+  max \\d+ .*"), r.out());
        assertTrue(r.out().matches("(?s).*max_length:   16 \\(keep_start\\): \\d+ truncated, 0 dropped\n.*"), r.out());
        assertTrue(r.out().endsWith("ok: no bad records\n"), r.out());
    }

    @Test
    void aBadFileListsEveryBadRecordAndExitsWith2() throws IOException {
        Path f = dir.resolve("bad.jsonl");
        Files.write(f, List.of(
                "{\"question\": \"What is 3 plus 5?\", \"answer\": \" 3 plus 5 is 8.\"}",
                "{\"question\": \"What is 3 plus 5?\", \"answer\": \"\"}",
                "{\"question\": \"What is 3 plus 5?\"",
                "{\"question\": 3, \"answer\": \" 8.\"}"));
        Run r = run("data", "check", f.toString(), "--model", dir.toString(), "--field", "prompt=question",
                "--field", "completion=answer");
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("records:      4 (3 bad)\n"), r.out());
        assertTrue(r.out().contains("bad records: 3\n" + f + ":2: answer: empty completion\n"), r.out());
        assertTrue(r.out().contains(f + ":3: malformed JSON: "), r.out());
        assertTrue(r.out().endsWith(f + ":4: question: expected a string (the file's first record has text here),"
                + " got number\n"), r.out());
        // without the mapping the keys say nothing: exit 2 with the reason
        Run unmapped = run("data", "check", f.toString(), "--model", dir.toString());
        assertEquals(2, unmapped.code());
        assertTrue(unmapped.err().startsWith(f + ":1: cannot tell the format from the keys [question, answer]"),
                unmapped.err());
        Run missing = run("data", "check", dir.resolve("nope.jsonl").toString(), "--model", dir.toString());
        assertEquals(2, missing.code());
        assertEquals(dir.resolve("nope.jsonl") + ": file not found\n", missing.err());
    }
}
