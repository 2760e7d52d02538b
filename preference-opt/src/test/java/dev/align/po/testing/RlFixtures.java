package dev.align.po.testing;

import dev.align.core.testing.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Synthetic prompt files over the fixture vocabulary (testdata/reference/llama_gqa). */
public final class RlFixtures {
    private RlFixtures() {}

    /** The llama_gqa policy fixture. */
    public static Path policy() {
        return Fixtures.reference("llama_gqa");
    }

    /** The rm_llama reward-model fixture (same tokenizer as the policy). */
    public static Path rewardModel() {
        return Fixtures.reference("rm_llama");
    }

    /**
     * Writes {@code n} prompt-only records of 2–5 fixture words each, with an {@code answer} column, to
     * {@code file}.
     */
    public static Path prompts(Path file, int n, long seed) {
        String[] syll = {"ba", "be", "bi", "bo", "bu"};
        String[] cons = {"da", "de", "di", "do", "du", "ka", "ke", "ki", "ko", "ku"};
        Random r = new Random(seed);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int k = 2 + r.nextInt(4);
            StringBuilder p = new StringBuilder();
            for (int j = 0; j < k; j++) {
                if (j > 0) {
                    p.append(' ');
                }
                p.append(syll[1 + r.nextInt(4)]).append(cons[r.nextInt(cons.length)]);
            }
            lines.add("{\"prompt\": \"" + p + "\", \"answer\": \"" + r.nextInt(10) + "\"}");
        }
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, lines);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }
}
