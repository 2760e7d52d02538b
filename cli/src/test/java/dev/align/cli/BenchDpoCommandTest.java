package dev.align.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.testing.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code bench dpo} on a tiny configuration: it runs both steps and reports them. (Registered under
 * {@code align bench} by the lead; invoked directly here.) Speed itself is never asserted.
 */
class BenchDpoCommandTest {
    @TempDir
    Path tmp;

    @Test
    void reportsSftAndDpoTokensPerSecond() {
        Path json = tmp.resolve("bench.json");
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int rc;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            rc = new CommandLine(new BenchDpoCommand()).execute("--hidden", "32", "--layers", "1", "--heads", "2",
                    "--inter", "64", "--vocab", "64", "--rows", "4", "--seq", "16", "--prompt", "4", "--warmup", "0",
                    "--steps", "1", "--rounds", "1", "--json", json.toString());
        } finally {
            System.setOut(saved);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, out);
        assertTrue(out.contains("sft step:") && out.contains("dpo step:") && out.contains("dpo / sft:"), out);
        JsonNode n = Fixtures.json(json);
        assertTrue(n.get("sft_tokens_per_s").asDouble() > 0 && n.get("dpo_tokens_per_s").asDouble() > 0, n.toString());
        assertEquals(n.get("dpo_tokens_per_s").asDouble() / n.get("sft_tokens_per_s").asDouble(), n.get("ratio").asDouble(), 1e-9);
        assertEquals(1, n.get("dpo_rounds").size());
    }

    @Test
    void badOptionsExitTwo() {
        assertEquals(2, exitOf("--rows", "3"));
        assertEquals(2, exitOf("--prompt", "256"));
        assertEquals(2, exitOf("--loss-type", "kto"));
    }

    private static int exitOf(String... args) {
        CommandLine cl = new CommandLine(new BenchDpoCommand());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> ex instanceof dev.align.core.BadInputException ? 2 : 1);
        return cl.execute(args);
    }
}
