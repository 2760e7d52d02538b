package dev.align.datasets.testing;

import dev.align.core.testing.Fixtures;
import dev.align.core.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Small data files for tests, and the reference tokenizer. */
public final class TestFiles {
    /** Stands for one line of bytes that are not UTF-8 ({@code {"text": "bad \xFF"}}). */
    public static final String BAD_UTF8 = "\u0000BAD_UTF8\u0000";

    private static Tokenizer llama;

    private TestFiles() {}

    /** The llama_gqa reference tokenizer: WordLevel, Whitespace pre-tokenizer, adds {@code <s>}, ChatML template. */
    public static synchronized Tokenizer llama() {
        if (llama == null) {
            llama = Tokenizer.load(Fixtures.reference("llama_gqa"));
        }
        return llama;
    }

    /** Writes lines (each followed by a newline) to {@code dir/name}; {@link #BAD_UTF8} writes a line with a 0xFF byte. */
    public static Path write(Path dir, String name, String... lines) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (String l : lines) {
            if (BAD_UTF8.equals(l)) {
                b.writeBytes("{\"text\": \"bad ".getBytes(StandardCharsets.UTF_8));
                b.write(0xFF);
                b.writeBytes("\"}".getBytes(StandardCharsets.UTF_8));
            } else {
                b.writeBytes(l.getBytes(StandardCharsets.UTF_8));
            }
            b.write('\n');
        }
        Path p = dir.resolve(name);
        try {
            Files.write(p, b.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }
}
