package dev.align.core.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * Paths to the test data checked into {@code testdata/} at the repository root: reference checkpoints
 * and the outputs of an independent PyTorch implementation ({@code testdata/reference/README.md}), and
 * the Qwen3 tokenizer.
 */
public final class Fixtures {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Fixtures() {}

    /** {@code testdata/} (from -Dalign.testdata, or found upwards from the working directory). */
    public static Path root() {
        String p = System.getProperty("align.testdata");
        if (p != null) {
            return Paths.get(p).toAbsolutePath().normalize();
        }
        Path d = Paths.get("").toAbsolutePath();
        while (d != null) {
            if (Files.isDirectory(d.resolve("testdata/reference"))) {
                return d.resolve("testdata");
            }
            d = d.getParent();
        }
        throw new IllegalStateException("testdata/ not found");
    }

    /** {@code testdata/reference/<name>}. */
    public static Path reference(String name) {
        return root().resolve("reference").resolve(name);
    }

    /** {@code testdata/tokenizers/qwen3}. */
    public static Path qwen3Tokenizer() {
        return root().resolve("tokenizers/qwen3");
    }

    /** Every line of a JSONL file, parsed. */
    public static List<JsonNode> jsonl(Path file) {
        try {
            List<JsonNode> out = new ArrayList<>();
            for (String line : Files.readAllLines(file)) {
                if (!line.isBlank()) {
                    out.add(JSON.readTree(line));
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A JSON file, parsed. */
    public static JsonNode json(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
