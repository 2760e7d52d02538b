package dev.align.datasets.bundled;

import dev.align.core.AlignException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The bundled data files, shipped as class-path resources under {@code /bundled/} in the datasets jar
 * (see {@code bundled/README.md}): find them, read them, or copy them all into a directory for the
 * demo (which then trains on plain files like any user's).
 */
public final class Bundled {
    /** Every bundled file (the README describes each). */
    public static final List<String> FILES = List.of(
            "corpus.txt", "pretrain_train.jsonl", "pretrain_test.jsonl",
            "qa_train.jsonl", "qa_test.jsonl",
            "rankings_train.jsonl", "rankings_test.jsonl",
            "preferences_train.jsonl", "preferences_test.jsonl",
            "verifiable_train.jsonl", "verifiable_test.jsonl",
            "world.json", "tokenizer.json", "tokenizer_config.json", "README.md");

    private Bundled() {}

    /** The class-path resource name of a bundled file. */
    public static String resource(String name) {
        if (!FILES.contains(name)) {
            throw new AlignException("no bundled file '" + name + "' (bundled: " + String.join(", ", FILES) + ")");
        }
        return "/bundled/" + name;
    }

    /** Opens a bundled file. */
    public static InputStream open(String name) {
        InputStream in = Bundled.class.getResourceAsStream(resource(name));
        if (in == null) {
            throw new AlignException("bundled file '" + name + "' is missing from the class path");
        }
        return in;
    }

    /** The bytes of a bundled file. */
    public static byte[] read(String name) {
        try (InputStream in = open(name)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new AlignException("cannot read bundled file '" + name + "': " + e.getMessage(), e);
        }
    }

    /**
     * Copies every bundled file into {@code dir} (created if needed; existing files replaced) and returns
     * {@code dir}. The tokenizer files make {@code dir} usable as a tokenizer directory.
     */
    public static Path extractTo(Path dir) {
        try {
            Files.createDirectories(dir);
            for (String f : FILES) {
                try (InputStream in = open(f)) {
                    Path tmp = dir.resolve("." + f + ".tmp");
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                    Files.move(tmp, dir.resolve(f), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                }
            }
            return dir;
        } catch (IOException e) {
            throw new AlignException(dir + ": cannot extract the bundled data: " + e.getMessage(), e);
        }
    }
}
