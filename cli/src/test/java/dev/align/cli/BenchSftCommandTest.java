package dev.align.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code align bench sft} on a toy configuration, and the profile's self-time arithmetic. */
class BenchSftCommandTest {
    @TempDir
    Path tmp;

    @Test
    void benchPrintsResultAndProfile() throws Exception {
        Path trace = tmp.resolve("trace.json");
        SftCommandTest.Run r = SftCommandTest.align("bench", "sft", "--hidden", "32", "--layers", "1", "--heads", "2",
                "--inter", "64", "--vocab", "100", "--seq", "16", "--batch", "2", "--steps", "2", "--warmup", "1",
                "--profile", trace.toString(), "--profile-steps", "1");
        assertEquals(0, r.rc(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out().strip());
        assertEquals("sft", j.get("bench").asText());
        assertTrue(j.get("tokens_per_s").asDouble() > 0);
        assertTrue(j.get("matmul_gflops").asDouble() > 0);
        // llama, hidden 32, 1 layer, inter 64, vocab 100, untied: embed + 4·32² + 3·32·64 + 2 norms + head
        assertEquals(100 * 32 + 4 * 32 * 32 + 3 * 32 * 64 + 3 * 32 + 32 * 100, j.get("params").asLong());
        assertTrue(j.get("mfu").asDouble() > 0 && j.get("mfu").asDouble() < 1.5, j.toString());
        assertTrue(j.get("forward_tokens_per_s").asDouble() > j.get("tokens_per_s").asDouble(),
                "a forward alone is faster than a training step: " + j);
        assertTrue(Files.size(trace) > 0);
        assertTrue(r.err().contains("MFU"), r.err());
        assertTrue(r.err().contains("aten::"), "per-op table: " + r.err());
    }

    @Test
    void selfTimeSubtractsNestedOps() throws Exception {
        Path trace = tmp.resolve("t.json");
        // thread 1: a [0, 100) calls b [10, 40) which calls c [15, 25); then d [50, 60) inside a; thread 2: b alone
        Files.writeString(trace, """
                [{"name": "a", "ph": "X", "ts": 0, "dur": 100, "pid": 1, "tid": 1},
                 {"name": "b", "ph": "X", "ts": 10, "dur": 30, "pid": 1, "tid": 1},
                 {"name": "c", "ph": "X", "ts": 15, "dur": 10, "pid": 1, "tid": 1},
                 {"name": "d", "ph": "X", "ts": 50, "dur": 10, "pid": 1, "tid": 1},
                 {"name": "b", "ph": "X", "ts": 20, "dur": 7, "pid": 1, "tid": 2},
                 {"name": "x", "ph": "i", "ts": 5, "pid": 1, "tid": 1}]
                """);
        List<BenchSftCommand.OpTime> ops = BenchSftCommand.selfTimes(trace);
        assertEquals(List.of(new BenchSftCommand.OpTime("a", 1, 60), new BenchSftCommand.OpTime("b", 2, 27),
                new BenchSftCommand.OpTime("c", 1, 10), new BenchSftCommand.OpTime("d", 1, 10)), ops);
        String table = BenchSftCommand.table(ops, 1, 2);
        assertTrue(table.contains("56.1%") && table.contains("25.2%"), "shares of 107 µs: " + table);
        assertTrue(table.lines().noneMatch(l -> l.startsWith("c ")), "top 2 only: " + table);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("all ops")), table);
    }
}
