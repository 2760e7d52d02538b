package dev.align.po.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Small test helpers. */
public final class RlTesting {
    private RlTesting() {}

    /** Copies a directory tree. */
    public static void copyDir(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

    /** The training metrics line of {@code step} (the one with a loss). */
    public static JsonNode line(List<JsonNode> lines, long step) {
        for (JsonNode l : lines) {
            if (l.path("step").asLong() == step && l.has("loss")) {
                return l;
            }
        }
        throw new AssertionError("no metrics line for step " + step + " in " + lines);
    }
}
