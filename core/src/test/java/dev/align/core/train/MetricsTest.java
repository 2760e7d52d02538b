package dev.align.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** metrics.jsonl windows and fields, resume truncation, the loss plot, terminal detection. */
class MetricsTest {

    @Test
    void linesAverageTheWindowAndKeepTheLastLearningRate(@TempDir Path out) throws IOException {
        try (Metrics m = new Metrics(out, 5, 2, true, 0)) {
            m.step(1, 0.2, 4.0, 1.5, 1e-3, 100, Map.of("acc", 0.5));
            m.step(2, 0.4, 2.0, 0.5, 2e-3, 100, Map.of("acc", 0.7));
            m.log(2, 0.4, Map.of("eval_loss", 3.5));
            m.step(3, 0.6, Double.NaN, Double.NaN, 3e-3, 50, Map.of());
            m.step(4, 0.8, 1.0, 0.25, 4e-3, 50, Map.of());
            m.step(5, 1.0, 0.5, 0.125, 5e-3, 10, Map.of());
        }
        List<JsonNode> lines = Metrics.read(out.resolve(Metrics.FILE));
        assertEquals(4, lines.size());
        JsonNode a = lines.get(0);
        assertEquals(2, a.get("step").asLong());
        assertEquals(0.4, a.get("epoch").asDouble());
        assertEquals(3.0, a.get("loss").asDouble(), 1e-12);
        assertEquals(2e-3, a.get("learning_rate").asDouble());
        assertEquals(0.5, a.get("grad_norm").asDouble());
        assertEquals(0.6, a.get("acc").asDouble(), 1e-12);
        assertTrue(a.get("tokens_per_s").asDouble() > 0);
        assertEquals(3.5, lines.get(1).get("eval_loss").asDouble());
        JsonNode c = lines.get(2); // steps 3 (NaN, not averaged) and 4
        assertEquals(4, c.get("step").asLong());
        assertEquals(1.0, c.get("loss").asDouble(), 1e-12);
        JsonNode d = lines.get(3); // the last step is always written
        assertEquals(5, d.get("step").asLong());
        assertEquals(0.5, d.get("loss").asDouble(), 1e-12);
        BufferedImage png = ImageIO.read(out.resolve(Metrics.PLOT).toFile());
        assertEquals(900, png.getWidth());
        assertEquals(500, png.getHeight());
    }

    @Test
    void nonFiniteValuesAreNull(@TempDir Path out) {
        try (Metrics m = new Metrics(out, 1, 1, false, 0)) {
            m.step(1, 1.0, Double.NaN, Double.POSITIVE_INFINITY, 1e-3, 0, Map.of());
        }
        JsonNode line = Metrics.read(out.resolve(Metrics.FILE)).get(0);
        assertTrue(line.get("loss").isNull());
        assertTrue(line.get("grad_norm").isNull());
        assertFalse(Files.exists(out.resolve(Metrics.PLOT)), "no plot without a single finite loss");
    }

    @Test
    void resumeKeepsLinesUpToTheCheckpointAndDropsACutLine(@TempDir Path out) throws IOException {
        try (Metrics m = new Metrics(out, 10, 1, false, 0)) {
            for (int s = 1; s <= 6; s++) {
                m.step(s, s / 10.0, 10.0 - s, 1, 1e-3, 10, Map.of());
            }
        }
        Files.writeString(out.resolve(Metrics.FILE), "{\"step\": 7, \"lo", java.nio.file.StandardOpenOption.APPEND);
        try (Metrics m = new Metrics(out, 10, 1, false, 4)) {
            m.step(5, 0.5, 1.5, 1, 1e-3, 10, Map.of());
        }
        List<JsonNode> lines = Metrics.read(out.resolve(Metrics.FILE));
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), lines.stream().map(n -> n.get("step").asLong()).toList());
        assertEquals(1.5, lines.get(4).get("loss").asDouble());
        try (Metrics m = new Metrics(out, 10, 1, false, 0)) {
            m.step(1, 0.1, 2.0, 1, 1e-3, 10, Map.of());
        }
        assertEquals(1, Metrics.read(out.resolve(Metrics.FILE)).size(), "a fresh run starts a new file");
    }

    @Test
    void stderrUnderTheTestRunnerIsNotATerminal() {
        assertFalse(Metrics.stderrIsTerminal());
    }
}
